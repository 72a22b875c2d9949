"""Intuit's query language: parser and evaluator.

SELECT * | COUNT(*) FROM Entity [WHERE p op v [AND ...]] [ORDERBY|ORDER BY p [ASC|DESC], ...]
[STARTPOSITION n] [MAXRESULTS n].  Everything Intuit does not support (OR, NOT, JOIN,
GROUP BY, projections) raises Intuit's QueryParserError (code 4000).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from . import faults
from .util import parse_dt

MAX_RESULTS = 1000
DEFAULT_MAX = 100

_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<str>'(?:\\.|[^'\\])*')
     |(?P<num>-?\d+(?:\.\d+)?(?![\w.]))
     |(?P<op><=|>=|!=|<>|=|<|>)
     |(?P<punct>[(),*])
     |(?P<ident>[A-Za-z_][\w.]*)
     |(?P<bad>\S)
    )""",
    re.X,
)


@dataclass
class Cond:
    path: list
    op: str
    values: list  # literal python values


@dataclass
class Query:
    entity: str
    count: bool = False
    where: list = field(default_factory=list)
    order: list = field(default_factory=list)
    start: int = 1
    max: int = DEFAULT_MAX


def _tokens(text):
    out = []
    pos = 0
    text = text.strip().rstrip(";")
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "bad":
            raise faults.query_parser(
                f'Lexical error at line 1, column {m.start(kind) + 1}.  Encountered: "{val}"'
            )
        if kind == "str":
            val = re.sub(r"\\(.)", r"\1", val[1:-1])
        out.append((kind, val, m.start(kind) + 1))
    return out


class _P:
    def __init__(self, text):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None, len(self.text))

    def kw(self, *words):
        k, v, _ = self.peek()
        if k == "ident" and v.upper() in words:
            self.i += 1
            return v.upper()
        return None

    def fail(self, expected):
        k, v, col = self.peek()
        if k is None:
            enc = "<EOF>"
        else:
            enc = f'" {v.upper() if k == "ident" else v} "{v} ""'
        return faults.query_parser(
            f"Encountered {enc} at line 1, column {col}.\nWas expecting one of:\n    {expected}"
        )

    def expect_punct(self, p):
        k, v, _ = self.peek()
        if k == "punct" and v == p:
            self.i += 1
            return
        raise self.fail(f'"{p}" ...')

    def ident(self, what="<ID> ..."):
        k, v, _ = self.peek()
        if k != "ident" or v.upper() in _RESERVED:
            raise self.fail(what)
        self.i += 1
        return v

    def literal(self):
        k, v, _ = self.peek()
        if k == "str":
            self.i += 1
            return v
        if k == "num":
            self.i += 1
            return Decimal(v)
        if k == "ident" and v.lower() in ("true", "false"):
            self.i += 1
            return v.lower() == "true"
        if k == "ident" and v.lower() == "null":
            self.i += 1
            return None
        raise self.fail("<STRING> ...\n    <INTEGER> ...\n    <BOOLEAN> ...")


_RESERVED = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "ORDERBY",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "STARTPOSITION",
    "MAXRESULTS",
    "IN",
    "LIKE",
    "JOIN",
    "GROUP",
    "COUNT",
}


def parse(text: str) -> Query:
    if not text or not text.strip():
        raise faults.query_parser("Encountered <EOF> at line 1, column 1.")
    p = _P(text)
    if not p.kw("SELECT"):
        raise p.fail('"select" ...')
    count = False
    k, v, _ = p.peek()
    if k == "punct" and v == "*":
        p.i += 1
        # "SELECT *, Sku FROM Item" (python-quickbooks' Item.all) is accepted
        while p.peek()[0] == "punct" and p.peek()[1] == ",":
            p.i += 1
            p.ident()
    elif k == "ident" and v.upper() == "COUNT":
        p.i += 1
        p.expect_punct("(")
        p.expect_punct("*")
        p.expect_punct(")")
        count = True
    else:
        raise p.fail('"*" ...\n    "count" ...')
    if not p.kw("FROM"):
        raise p.fail('"from" ...')
    entity = p.ident("<ENTITY> ...")
    q = Query(entity=entity, count=count)
    if p.kw("WHERE"):
        while True:
            path = p.ident().split(".")
            k, v, _ = p.peek()
            if k == "op":
                if v in ("!=", "<>"):
                    raise p.fail('"=" ...\n    "<" ...\n    ">" ...\n    "in" ...\n    "like" ...')
                p.i += 1
                q.where.append(Cond(path, v, [p.literal()]))
            elif p.kw("IN"):
                p.expect_punct("(")
                vals = [p.literal()]
                while p.peek()[0] == "punct" and p.peek()[1] == ",":
                    p.i += 1
                    vals.append(p.literal())
                p.expect_punct(")")
                q.where.append(Cond(path, "IN", vals))
            elif p.kw("LIKE"):
                lit = p.literal()
                if not isinstance(lit, str):
                    raise p.fail("<STRING> ...")
                q.where.append(Cond(path, "LIKE", [lit]))
            else:
                raise p.fail('"=" ...\n    "<" ...\n    ">" ...\n    "in" ...\n    "like" ...')
            if not p.kw("AND"):
                break
    if p.kw("ORDERBY") or (p.kw("ORDER") and (p.kw("BY") or _raise(p.fail('"by" ...')))):
        while True:
            path = p.ident().split(".")
            desc = False
            d = p.kw("ASC", "DESC")
            if d == "DESC":
                desc = True
            q.order.append((path, desc))
            if p.peek()[0] == "punct" and p.peek()[1] == ",":
                p.i += 1
                continue
            break
    for _ in range(2):
        w = p.kw("STARTPOSITION", "MAXRESULTS")
        if not w:
            break
        k, v, _ = p.peek()
        if k != "num" or "." in v:
            raise p.fail("<INTEGER> ...")
        p.i += 1
        n = int(v)
        if w == "STARTPOSITION":
            q.start = max(1, n)
        else:
            if n > MAX_RESULTS:
                raise faults.query_validation(
                    f"value {n} for MAXRESULTS exceeds the maximum allowed value of {MAX_RESULTS}"
                )
            q.max = max(0, n)
    if p.i < len(p.toks):
        raise p.fail(
            '"where" ...\n    "orderby" ...\n    "startposition" ...\n    '
            '"maxresults" ...\n    <EOF>'
        )
    return q


def _raise(e):
    raise e


# ---------------------------------------------------------------- evaluation


def _get(obj, path):
    cur = obj
    for part in path:
        if not isinstance(cur, dict):
            return None
        nxt = cur.get(part)
        if nxt is None:
            low = part.lower()
            nxt = next((v for k, v in cur.items() if k.lower() == low), None)
        cur = nxt
        if cur is None:
            return None
    if isinstance(cur, dict) and "value" in cur:
        cur = cur["value"]
    return cur


def _canon(path, resolve):
    return [resolve(p) or p for p in path]


class _Lit:
    """A literal pre-converted once for every comparison."""

    __slots__ = ("bool", "dec", "is_date", "raw", "s")

    def __init__(self, lit):
        self.raw = lit
        self.s = "" if lit is None else str(lit).lower()
        self.bool = (
            lit
            if isinstance(lit, bool)
            else (self.s == "true" if self.s in ("true", "false") else None)
        )
        try:
            self.dec = (
                lit
                if isinstance(lit, Decimal)
                else (Decimal(lit) if isinstance(lit, str) and lit.strip() else None)
            )
        except Exception:
            self.dec = None
        self.is_date = isinstance(lit, str) and len(lit) >= 10 and lit[4:5] == "-"


def _norm(v, lit):
    """Return comparable (a, b) for the stored value and the literal, or None."""
    if v is None:
        return None
    if isinstance(v, bool):
        return None if lit.bool is None else (v, lit.bool)
    if isinstance(v, Decimal):
        return None if lit.dec is None else (v, lit.dec)
    if isinstance(v, (int, float)):
        return None if lit.dec is None else (Decimal(str(v)), lit.dec)
    if isinstance(v, str):
        if lit.is_date and len(v) >= 10 and v[4:5] == "-":
            if len(v) == 10 and len(lit.raw) == 10:
                return (v, lit.raw)
            a, b = parse_dt(v), parse_dt(lit.raw)
            if a is not None and b is not None:
                return (a, b)
        if v.isdigit() and lit.s.isdigit():
            return (int(v), int(lit.s))
        if isinstance(lit.raw, Decimal):
            try:
                return (Decimal(v), lit.dec)
            except Exception:
                return (v.lower(), lit.s)
        return (v.lower(), lit.s)
    return None


def _like(pattern):
    rx = "".join(".*" if ch == "%" else re.escape(ch) for ch in pattern)
    return re.compile("^" + rx + "$", re.I | re.S)


def _matcher(cond, resolve):
    path, op, vals = _canon(cond.path, resolve), cond.op, cond.values
    if op == "LIKE":
        rx = _like(vals[0])

        def m(o):
            v = _get(o, path)
            return isinstance(v, str) and rx.match(v) is not None

        return m
    if op == "IN":
        lits = [_Lit(x) for x in vals]

        def m(o):
            v = _get(o, path)
            for lit in lits:
                pr = _norm(v, lit)
                if pr is not None and pr[0] == pr[1]:
                    return True
            return False

        return m
    lit = _Lit(vals[0])
    cmp = {
        "=": lambda a, b: a == b,
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        ">=": lambda a, b: a >= b,
    }[op]

    def m(o):
        v = _get(o, path)
        pr = _norm(v, lit)
        if pr is None:
            return False
        try:
            return cmp(pr[0], pr[1])
        except TypeError:
            return False

    return m


def _sort_key(path, resolve):
    path = _canon(path, resolve)

    def key(o):
        v = _get(o, path)
        if v is None:
            return (1, 0, "")
        if isinstance(v, bool):
            return (0, 0, int(v))
        if isinstance(v, (Decimal, int, float)):
            return (0, 0, Decimal(str(v)))
        if isinstance(v, str):
            if v.isdigit():
                return (0, 0, int(v))
            if len(v) > 10 and v[4:5] == "-":
                d = parse_dt(v)
                if d is not None:
                    return (0, 1, d.timestamp())
            return (0, 2, v.lower())
        return (0, 3, str(v))

    return key


def execute(q: Query, objects, resolve, list_entity: bool, known: set | None):
    """Filter/sort/slice; returns (page list, total count)."""
    lowered = {k.lower() for k in known} if known is not None else None
    for c in q.where:
        if lowered is not None and c.path[0].lower() not in lowered:
            raise faults.query_validation(f"property '{c.path[0]}' is not queryable")
        if c.path[0].lower() == "id" and c.op not in ("=", "IN"):
            raise faults.query_validation(f"Operator {c.op} is not supported for property 'Id'")
    for path, _ in q.order:
        if lowered is not None and path[0].lower() not in lowered:
            raise faults.query_validation(f"property '{path[0]}' is not sortable")
    preds = [_matcher(c, resolve) for c in q.where]
    if list_entity and not any(c.path[0].lower() == "active" for c in q.where):
        preds.insert(0, lambda o: o.get("Active", True) is not False)
    if len(preds) == 1:
        p0 = preds[0]
        rows = [o for o in objects if p0(o)]
    elif preds:
        rows = [o for o in objects if all(p(o) for p in preds)]
    else:
        rows = objects if isinstance(objects, list) else list(objects)
    if q.count:
        return [], len(rows)
    if q.order:
        rows = list(rows)
        for path, desc in reversed(q.order):
            rows.sort(key=_sort_key(path, resolve), reverse=desc)
    total = len(rows)
    start = q.start - 1
    return rows[start : start + q.max], total
