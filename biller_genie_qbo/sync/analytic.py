"""QuickBooks Classes and Departments (locations) <-> Odoo analytic accounts on invoice lines
(issue 18); the model is ``models/qbo_analytic.py``.

QuickBooks tracks classes per line (``SalesItemLineDetail.ClassRef``, preference
``ClassTrackingPerTxnLine``) or per transaction (``ClassRef``, ``ClassTrackingPerTxn``), and a
location per transaction (``DepartmentRef``, ``TrackDepartments``); the preferences are read with
each push (``models/qbo_books.py``).

Inbound: each line's analytic distribution gets 100 % of its class's account (the line's, else
the transaction's) and 100 % of the transaction's location account, in their own plans.

Outbound: the class of a line is its analytic account of the class plan (else the journal's
default), sent per line or per transaction as the company's preference says; the location is
the lines' account of the location plan (else the journal's default). An analytic account of
those plans QuickBooks does not have yet is created there (free writes).
"""

import logging

from ..models.qbo_mapping import ref_value
from ..models.qbo_push_mixin import QboPushProblem
from ..tools.qbo_errors import QboDuplicate, QboValidationError

_logger = logging.getLogger(__name__)

KINDS = ("Class", "Department")


def analytic_preference_vals(prefs):
    info = (prefs or {}).get("AccountingInfoPrefs") or {}
    if info.get("ClassTrackingPerTxnLine"):
        tracking = "line"
    elif info.get("ClassTrackingPerTxn"):
        tracking = "txn"
    else:
        tracking = "none"
    return {
        "qbo_class_tracking": tracking,
        "qbo_track_departments": bool(info.get("TrackDepartments")),
    }


def analytic_refs(remotes):
    """{"Class": qbo ids, "Department": qbo ids} these documents name."""
    out = {"Class": set(), "Department": set()}
    for remote in remotes:
        out["Class"].add(ref_value(remote.get("ClassRef")))
        out["Department"].add(ref_value(remote.get("DepartmentRef")))
        for line in remote.get("Line") or []:
            details = [line.get("SalesItemLineDetail") or {}]
            for child in (line.get("GroupLineDetail") or {}).get("Line") or []:
                details.append(child.get("SalesItemLineDetail") or {})
            for detail in details:
                out["Class"].add(ref_value(detail.get("ClassRef")))
    return {kind: ids - {None} for kind, ids in out.items()}


def ensure_analytics(sync, remotes):
    """Read QuickBooks' classes or locations (one query per kind) when a page names one Odoo
    does not know yet."""
    Analytic = sync.env["biller_genie_qbo.analytic"].sudo().with_context(active_test=False)
    for kind, ids in analytic_refs(remotes).items():
        if not ids:
            continue
        known = Analytic.search(
            [("connection_id", "=", sync.conn.id), ("kind", "=", kind), ("qbo_id", "in", list(ids))]
        )
        if ids - set(known.mapped("qbo_id")):
            Analytic._qbo_store(sync.conn, kind, sync.client.query_all(kind))


def analytic_lookups(sync, remotes):
    """{"analytics": {(kind, qbo id): analytic account id}} for a page."""
    refs = analytic_refs(remotes)
    wanted = refs["Class"] | refs["Department"]
    if not wanted:
        return {"analytics": {}}
    records = (
        sync.env["biller_genie_qbo.analytic"]
        .sudo()
        .with_context(active_test=False)
        .search([("connection_id", "=", sync.conn.id), ("qbo_id", "in", list(wanted))])
    )
    return {
        "analytics": {
            (r.kind, r.qbo_id): r.analytic_account_id.id for r in records if r.analytic_account_id
        }
    }


def line_analytics(remote, lookups, detail=None):
    """{"analytic_distribution": …} of an imported line ({} when it has neither class nor
    location): ``detail`` is its SalesItemLineDetail (None for lines without one)."""
    analytics = lookups.analytics or {}
    out = {}
    class_id = ref_value((detail or {}).get("ClassRef")) or ref_value(remote.get("ClassRef"))
    for key in (("Class", class_id), ("Department", ref_value(remote.get("DepartmentRef")))):
        account = analytics.get(key)
        if account:
            out[str(account)] = 100.0
    return {"analytic_distribution": out} if out else {}


# ----------------------------------------------------------------------
# Outbound
# ----------------------------------------------------------------------
def line_account(line, plan):
    """The analytic account of ``plan`` in a line's distribution (the largest share)."""
    Account = line.env["account.analytic.account"]
    best, share = Account, -1.0
    if not plan or not line.analytic_distribution:
        return best
    for key, percent in line.analytic_distribution.items():
        ids = [int(i) for i in str(key).split(",") if i.isdigit()]
        for account in Account.browse(ids).exists():
            if account.root_plan_id == plan and percent > share:
                best, share = account, percent
    return best


def ensure_qbo_analytics(engine, moves):
    """Create in QuickBooks the classes / locations these documents use and QuickBooks lacks
    (one write each); returns {analytic account id: (kind, qbo id)} for every known one."""
    conn = engine.conn
    books = engine.env["biller_genie_qbo.books"]._qbo_for(conn)
    Analytic = engine.env["biller_genie_qbo.analytic"].sudo().with_context(active_test=False)
    known = Analytic.search([("connection_id", "=", conn.id)])
    out = {r.analytic_account_id.id: (r.kind, r.qbo_id) for r in known if r.analytic_account_id}
    enabled = {
        "Class": books.qbo_class_tracking != "none",
        "Department": books.qbo_track_departments,
    }
    plans = {kind: Analytic._qbo_plan(conn, kind) for kind in KINDS if enabled[kind]}
    engine.lookups.analytic_prefs = {
        "class_tracking": books.qbo_class_tracking,
        "track_departments": books.qbo_track_departments,
        "plans": plans,
    }
    lines = moves.invoice_line_ids.filtered(lambda ln: ln.display_type == "product")
    for kind in KINDS:
        if not enabled[kind]:
            continue
        accounts = engine.env["account.analytic.account"]
        for line in lines:
            accounts |= line_account(line, plans[kind])
        default_field = "qbo_class_analytic_id" if kind == "Class" else "qbo_location_analytic_id"
        accounts |= moves.journal_id[default_field]
        for account in accounts.filtered(lambda a: a.id not in out):
            try:
                remote = engine.client.create(kind, {"Name": (account.name or "")[:100]})
            except (QboDuplicate, QboValidationError) as error:
                # e.g. an inactive class of that name in QuickBooks: the lines go without it
                _logger.warning(
                    "QuickBooks connection %s: a %s was not created (%s)", conn.id, kind, error.code
                )
                continue
            record = Analytic.create(
                {
                    "connection_id": conn.id,
                    "kind": kind,
                    "qbo_id": str(remote["Id"]),
                    "name": remote.get("FullyQualifiedName") or remote.get("Name"),
                    "analytic_account_id": account.id,
                }
            )
            out[account.id] = (kind, record.qbo_id)
    engine.lookups.analytics = out
    return out


def apply_qbo_analytics(move, body, lookups):
    """Put ClassRef (per line or per transaction) and DepartmentRef on an outgoing body."""
    conn_prefs = lookups.analytic_prefs or {}
    analytics = lookups.analytics or {}
    if not analytics:
        return
    journal = move.journal_id
    plans = conn_prefs.get("plans") or {}
    product_lines = move.invoice_line_ids.filtered(lambda ln: ln.display_type == "product").sorted(
        lambda ln: (ln.sequence, ln.id)
    )
    entries = [e for e in body.get("Line") or [] if e.get("DetailType") == "SalesItemLineDetail"]

    def ref(account, kind):
        found = analytics.get(account.id) if account else None
        return {"value": found[1]} if found and found[0] == kind else None

    tracking = conn_prefs.get("class_tracking") or "none"
    if tracking != "none":
        default = journal.qbo_class_analytic_id
        classes = [
            ref(line_account(line, plans.get("Class")) or default, "Class")
            for line in product_lines
        ]
        if tracking == "line":
            for entry, class_ref in zip(entries, classes, strict=False):
                if class_ref:
                    entry["SalesItemLineDetail"]["ClassRef"] = class_ref
        else:
            distinct = {c["value"] for c in classes if c}
            if len(distinct) > 1:
                raise QboPushProblem(
                    move.env._(
                        "QuickBooks Online tracks one class per transaction here, and the lines "
                        "of this invoice have several: give them one class, or track classes "
                        "per line in QuickBooks."
                    ),
                    code="class_per_transaction",
                )
            if distinct:
                body["ClassRef"] = {"value": distinct.pop()}
    if conn_prefs.get("track_departments"):
        default = journal.qbo_location_analytic_id
        locations = {
            (ref(line_account(line, plans.get("Department")) or default, "Department") or {}).get(
                "value"
            )
            for line in product_lines
        } - {None}
        if len(locations) > 1:
            raise QboPushProblem(
                move.env._(
                    "QuickBooks Online keeps one location per transaction, and the lines of this "
                    "invoice have several: give them one location."
                ),
                code="location",
            )
        if locations:
            body["DepartmentRef"] = {"value": locations.pop()}
