"""QuickBooks Online Accounting API client, built on python-quickbooks.

:class:`QboClient` wraps a :class:`quickbooks.client.QuickBooks` subclass whose base URL points at
the configured environment and whose transport (``process_request``) is ours:

- one ``requests.Session`` (keep-alive) and a timeout on every call;
- a process-wide, thread-safe client-side throttle per realm (under 10 requests/s and 500/min);
- 429 (Intuit's XML throttle fault): wait ``throttle_wait`` seconds (Intuit says 60) and retry;
- 5xx, timeouts, connection errors: bounded exponential backoff with jitter;
- 401: refresh once through :class:`QboOAuth`, hand the new tokens to ``token_saver`` at once,
  retry once; a second 401 is a :class:`QboAuthError`, ``invalid_grant`` a
  :class:`QboReconnectRequired`; proactive refresh when the access token expires within 60 s;
- a ``requestid`` on every write (idempotent retries), ``minorversion`` >= 75 always;
- Faults (also inside a 200) become typed :class:`QboError` with Intuit's code and ``intuit_tid``.

Public methods take and return plain dicts. Tokens never reach the logs.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import datetime
import json
import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import requests
from quickbooks.client import QuickBooks
from quickbooks.exceptions import AuthorizationException, QuickbooksException

from .qbo_errors import (
    QboAuthError,
    QboError,
    QboPayloadError,
    QboServerError,
    QboThrottled,
    QboValidationError,
    error_class_for,
    error_from_fault,
)
from .qbo_oauth import QboOAuth, TokenSet, utcnow
from .qbo_time import parse_intuit_time

_logger = logging.getLogger(__name__)

MIN_MINOR_VERSION = 75
MAX_PAGE_SIZE = 1000
BATCH_SIZE = 30
REFRESH_MARGIN = 60  # seconds: refresh proactively when the access token expires sooner
_ENTITY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]+$")
_XML_CODE_RE = re.compile(r"<Error[^>]*\bcode=\"([^\"]+)\"", re.IGNORECASE)
_XML_MESSAGE_RE = re.compile(r"<Message>(.*?)</Message>", re.IGNORECASE | re.DOTALL)
_XML_DETAIL_RE = re.compile(r"<Detail>(.*?)</Detail>", re.IGNORECASE | re.DOTALL)
_VOID_BY_UPDATE = frozenset({"payment", "salesreceipt"})


# ---------------------------------------------------------------------------------------------
# Client-side throttle (process-wide, per realm)


class RateLimiter:
    """Sliding-window limiter: at most ``per_second`` calls in any second and ``per_minute``
    calls in any minute. Thread-safe. A small margin keeps the server's view under the limit
    despite network jitter."""

    margin = 0.05

    def __init__(self, per_second: int, per_minute: int):
        self.per_second = int(per_second)
        self.per_minute = int(per_minute)
        self._second: collections.deque[float] = collections.deque()
        self._minute: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def acquire(self, clock=time.monotonic, sleep=time.sleep) -> float:
        """Block until a call is allowed; returns the time waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = clock()
                sec_window = 1.0 + self.margin
                min_window = 60.0 + self.margin
                while self._second and now - self._second[0] >= sec_window:
                    self._second.popleft()
                while self._minute and now - self._minute[0] >= min_window:
                    self._minute.popleft()
                wait = 0.0
                if self.per_second > 0 and len(self._second) >= self.per_second:
                    wait = max(wait, self._second[0] + sec_window - now)
                if self.per_minute > 0 and len(self._minute) >= self.per_minute:
                    wait = max(wait, self._minute[0] + min_window - now)
                if wait <= 0:
                    self._second.append(now)
                    self._minute.append(now)
                    return waited
            sleep(wait)
            waited += wait


_limiters: dict[tuple, RateLimiter] = {}
_limiters_lock = threading.Lock()


def get_rate_limiter(realm_id: str, per_second: int, per_minute: int) -> RateLimiter:
    """The process-wide limiter of a realm (one per realm and limit pair)."""
    key = (str(realm_id), int(per_second), int(per_minute))
    with _limiters_lock:
        limiter = _limiters.get(key)
        if limiter is None:
            limiter = _limiters[key] = RateLimiter(per_second, per_minute)
        return limiter


# ---------------------------------------------------------------------------------------------
# Results


@dataclasses.dataclass
class BatchResult:
    """The outcome of one batch item: the entity (or QueryResponse) dict, or a QboError."""

    bId: str
    entity_name: str | None = None
    entity: dict | None = None
    error: QboError | None = None
    raw: dict | None = dataclasses.field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None


def fault_in_answer(result: dict) -> dict | None:
    """The Fault an HTTP 200 answer carries (API_FACTS §4): at the top (either spelling), or
    inside a wrapper such as ``{"AttachableResponse": [{"Fault": ...}]}``. The batch's items
    are not looked at: each one is a result of its own (:meth:`QboClient.batch`)."""
    for key in ("Fault", "fault"):
        if isinstance(result.get(key), dict):
            return result[key]
    for key, value in result.items():
        if key == "BatchItemResponse":
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                for name in ("Fault", "fault"):
                    if isinstance(item.get(name), dict):
                        return item[name]
    return None


# ---------------------------------------------------------------------------------------------
# python-quickbooks with our transport


class _QuickBooksApi(QuickBooks):
    """python-quickbooks' client; transport and Fault handling delegated to :class:`QboClient`."""

    _qbo_client: QboClient | None = None

    def process_request(self, request_type, url, *, headers="", params="", data=""):
        return self._qbo_client._send(request_type, url, headers=headers, params=params, data=data)

    def handle_exceptions(self, results):
        client = self._qbo_client
        raise error_from_fault(
            results,
            status=client.last_status if client else None,
            intuit_tid=client.last_intuit_tid if client else None,
        )


def _fmt_datetime(value: datetime.datetime | datetime.date) -> str:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat() + "+00:00"
    return value.isoformat()


def parse_qbo_datetime(value: str) -> datetime.datetime:
    """Intuit's ``time`` (``2015-07-24T10:33:39.123-07:00``) as a naive UTC datetime."""
    parsed = parse_intuit_time(value if isinstance(value, str) else None)
    if parsed is None:
        raise QboPayloadError("Missing server time in the response", code="time")
    return parsed


def quote(value: Any) -> str:
    """A value for the QBO query language (quote escaped with a backslash)."""
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


class QboClient:
    """The Accounting API of one realm. Thread-safe; cheap to build, keep one per job."""

    def __init__(
        self,
        realm_id: str,
        api_url_v3: str,
        tokens: TokenSet,
        oauth: QboOAuth,
        *,
        token_saver: Callable[[TokenSet], None],
        minorversion: int = MIN_MINOR_VERSION,
        timeout: float | tuple[float, float] = (5, 60),
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 30,
        throttle_wait: float = 60,
        sleep: Callable[[float], None] = time.sleep,
        rate_limit: tuple[int, int] | None = (10, 500),
        log_name: str = "QBO",
        meter=None,
    ):
        if not realm_id or not re.match(r"^[0-9A-Za-z_-]+$", str(realm_id)):
            raise QboValidationError("Invalid realm id", code="invalid_realm")
        try:
            minorversion = int(minorversion)
        except (TypeError, ValueError):
            raise QboValidationError("minorversion must be an integer", code="minorversion")
        if minorversion < MIN_MINOR_VERSION:
            raise QboValidationError(
                f"minorversion {minorversion} is not supported (minimum {MIN_MINOR_VERSION})",
                code="minorversion",
            )
        if not isinstance(tokens, TokenSet):
            raise QboValidationError("tokens must be a TokenSet", code="tokens")
        self.realm_id = str(realm_id)
        # What the logs call this company: never the realm id (Intuit: no QuickBooks data in
        # logs; the realm is encrypted at rest, a log file would undo that).
        self.log_name = log_name
        self.api_url_v3 = api_url_v3.rstrip("/")
        self.tokens = tokens
        self.oauth = oauth
        self.token_saver = token_saver
        self.minorversion = minorversion
        self.timeout = timeout
        self.max_retries = max(0, int(max_retries))
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.throttle_wait = throttle_wait
        self.sleep = sleep
        self.limiter = get_rate_limiter(self.realm_id, *rate_limit) if rate_limit else None
        # The billed-call meter (tools/qbo_meter.CallMeter): one count per HTTP attempt.
        self.meter = meter
        self._refresh_lock = threading.RLock()
        self._local = threading.local()

        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

        api = _QuickBooksApi(company_id=self.realm_id, minorversion=minorversion)
        api.api_url_v3 = self.api_url_v3
        api.sandbox = False
        api.session = self.session
        api._qbo_client = self
        self.api = api

    def __repr__(self):
        return f"QboClient({self.log_name})"

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- last response (per thread) ---------------------------------------------------------

    @property
    def last_intuit_tid(self) -> str | None:
        return getattr(self._local, "tid", None)

    @property
    def last_status(self) -> int | None:
        return getattr(self._local, "status", None)

    # -- tokens -----------------------------------------------------------------------------

    def _refresh(self, used_access_token: str | None = None, reason: str = "401"):
        """Refresh the tokens once (unless another thread already did) and save them at once."""
        with self._refresh_lock:
            if used_access_token is not None and self.tokens.access_token != used_access_token:
                return  # refreshed meanwhile by another thread
            _logger.info("QBO: refreshing the access token (%s)", reason)
            new = self.oauth.refresh(self.tokens.refresh_token, realm_id=self.realm_id)
            if new.realm_id is None:
                new.realm_id = self.realm_id
            try:
                self.token_saver(new)
            except QboError:
                raise
            except Exception as exc:
                _logger.error("%s: the token saver failed (%s)", self.log_name, type(exc).__name__)
                raise QboError(
                    f"Saving the refreshed tokens failed: {type(exc).__name__}",
                    code="token_saver_failed",
                ) from exc
            self.tokens = new

    def ensure_fresh_token(self):
        """Refresh now when the access token expires within the safety margin."""
        if self.tokens.access_expires_within(REFRESH_MARGIN):
            self._refresh(self.tokens.access_token, reason="expiring")

    # -- transport --------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return delay / 2 + random.uniform(0, delay / 2)

    def _send(self, method, url, *, headers, params, data):
        """python-quickbooks' ``process_request``: retries, throttle, token refresh."""
        headers = dict(headers or {})
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.ensure_fresh_token()
        attempt = 0
        refreshed = False
        endpoint = url.rsplit("/company/", 1)[-1].split("/", 1)[-1] if "/company/" in url else url
        while True:
            if self.limiter is not None:
                self.limiter.acquire()
            token = self.tokens.access_token
            headers["Authorization"] = "Bearer " + token
            failure = None
            response = None
            try:
                response = self.session.request(
                    method, url, headers=headers, params=params, data=data, timeout=self.timeout
                )
            except requests.Timeout as exc:
                failure = ("timeout", exc)
            except requests.ConnectionError as exc:
                failure = ("connection_error", exc)
            except requests.RequestException as exc:
                self._count_call(method, endpoint, None)
                raise QboServerError(
                    f"Request to QuickBooks failed: {type(exc).__name__}", code="request_error"
                )
            self._count_call(method, endpoint, response)
            if response is not None:
                status = response.status_code
                tid = response.headers.get("intuit_tid")
                self._local.tid = tid
                self._local.status = status
                if status == 401:
                    if refreshed:
                        raise self._error_from_response(response, QboAuthError)
                    refreshed = True
                    self._refresh(token)
                    continue
                wait = self._retry_wait(response, endpoint, attempt)
                if wait is None:
                    return response
                attempt += 1
                self.sleep(wait)
                continue
            kind, exc = failure
            self._local.tid = None
            self._local.status = None
            if attempt >= self.max_retries:
                _logger.warning(
                    "%s: %s on %s, giving up after %d retries",
                    self.log_name,
                    kind,
                    endpoint,
                    attempt,
                )
                raise QboServerError(
                    f"QuickBooks did not answer ({type(exc).__name__})", code=kind
                ) from None
            attempt += 1
            wait = self._backoff(attempt)
            _logger.info(
                "%s: %s on %s, retry %d in %.2fs",
                self.log_name,
                kind,
                endpoint,
                attempt,
                wait,
            )
            self.sleep(wait)

    def _count_call(self, method, endpoint, response):
        """The meter's hook: every HTTP attempt, by Intuit's class (never raises). A Fault
        inside a 200 (the answer's first key) is a failed call, not billed."""
        if self.meter is not None:
            try:
                status = response.status_code if response is not None else None
                fault = status == 200 and response.content[:40].lstrip().startswith(b'{"Fault"')
                self.meter.api_call(method, endpoint, status, fault)
            except Exception:  # the meter must never break a call
                _logger.exception("%s: the call meter failed", self.log_name)

    def _retry_wait(self, response, endpoint, attempt):
        """The 429 (or 403 ThrottleExceeded) and 5xx answers: the seconds to wait before retry
        ``attempt + 1`` (a throttle waits ``throttle_wait``, a 5xx backs off exponentially), or
        the typed error once ``max_retries`` are spent. None for any other answer."""
        status = response.status_code
        throttled = status == 429 or (status == 403 and b"ThrottleExceeded" in response.content)
        if not throttled and status < 500:
            return None
        tid = response.headers.get("intuit_tid")
        what = "throttled" if throttled else f"HTTP {status}"
        if attempt >= self.max_retries:
            _logger.warning(
                "%s: %s on %s, giving up after %d retries (tid %s)",
                self.log_name,
                what,
                endpoint,
                attempt,
                tid,
            )
            raise self._error_from_response(response, QboThrottled if throttled else QboServerError)
        if throttled:
            wait = self.throttle_wait * random.uniform(1.0, 1.1)
        else:
            wait = self._backoff(attempt + 1)
        (_logger.warning if throttled else _logger.info)(
            "%s: %s on %s (tid %s), retry %d in %.2fs",
            self.log_name,
            what,
            endpoint,
            tid,
            attempt + 1,
            wait,
        )
        return wait

    def _error_from_response(self, response, cls: type[QboError]) -> QboError:
        """A typed error of class ``cls`` from a failed response (JSON, XML or other body)."""
        status = response.status_code
        tid = response.headers.get("intuit_tid")
        payload: Any = None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict) and ("Fault" in payload or "fault" in payload):
            err = error_from_fault(payload, status=status, intuit_tid=tid)
            return cls(
                err.message,
                code=err.code,
                detail=err.detail,
                status=status,
                intuit_tid=tid,
                element=err.element,
                payload=payload,
            )
        text = response.text or ""
        code_match = _XML_CODE_RE.search(text)
        message_match = _XML_MESSAGE_RE.search(text)
        detail_match = _XML_DETAIL_RE.search(text)
        default_code = "3001" if cls is QboThrottled else f"http_{status}"
        return cls(
            message_match.group(1).strip() if message_match else f"HTTP {status}",
            code=code_match.group(1) if code_match else default_code,
            detail=detail_match.group(1).strip() if detail_match else "",
            status=status,
            intuit_tid=tid,
            payload=payload if payload is not None else text[:2000],
        )

    def _convert(self, exc: QuickbooksException) -> QboError:
        """python-quickbooks' exception → our typed error (with the last intuit_tid)."""
        status = self.last_status
        tid = self.last_intuit_tid
        message = getattr(exc, "message", "") or str(exc)
        detail = getattr(exc, "detail", "") or ""
        code = getattr(exc, "error_code", None)
        if isinstance(exc, AuthorizationException) and status == 401:
            return QboAuthError(message, code="3200", detail=detail, status=status, intuit_tid=tid)
        unreadable = str(message).startswith("Error reading json response")
        if unreadable or (code == 10000 and not detail):
            if status is not None and status >= 400:
                cls = error_class_for(None, status)
                return cls(message, code=f"http_{status}", status=status, intuit_tid=tid)
            return QboPayloadError(
                "QuickBooks answered a body that is not JSON",
                code="payload",
                status=status,
                intuit_tid=tid,
                detail=str(message)[:500],
            )
        cls = error_class_for(code, status)
        return cls(message, code=code, detail=detail, status=status, intuit_tid=tid)

    def _call(self, func: Callable, *args, **kwargs) -> dict:
        try:
            result = func(*args, **kwargs)
        except QboError:
            raise
        except QuickbooksException as exc:
            raise self._convert(exc)
        except requests.RequestException as exc:
            raise QboServerError(f"Request failed: {type(exc).__name__}", code="request_error")
        if not isinstance(result, dict):
            raise QboPayloadError(
                "QuickBooks answered an unexpected body",
                status=self.last_status,
                intuit_tid=self.last_intuit_tid,
                payload=result,
            )
        fault = fault_in_answer(result)
        if fault is not None:
            raise error_from_fault(
                fault, status=self.last_status, intuit_tid=self.last_intuit_tid, payload=result
            )
        return result

    def _url(self, *parts: str) -> str:
        return "/".join([self.api_url_v3, "company", self.realm_id, *parts])

    @staticmethod
    def _check_entity(entity: str) -> str:
        if not isinstance(entity, str) or not _ENTITY_RE.match(entity):
            raise QboValidationError(f"Invalid entity name {entity!r}", code="invalid_entity")
        return entity

    @staticmethod
    def _check_id(value: Any, what: str = "Id") -> str:
        text = str(value) if value is not None else ""
        if not text or not _ID_RE.match(text):
            raise QboValidationError(f"Invalid {what} {value!r}", code="invalid_id")
        return text

    def _get(self, *parts: str, params: dict | None = None) -> dict:
        return self._call(self.api.get, self._url(*parts), params=dict(params or {}))

    def _post(
        self,
        *parts: str,
        body: Any,
        params: dict | None = None,
        request_id: str | None = None,
        content_type: str = "application/json",
    ) -> dict:
        data = body if isinstance(body, str) else json.dumps(body)
        return self._call(
            self.api.make_request,
            "POST",
            self._url(*parts),
            data,
            content_type=content_type,
            params=dict(params or {}),
            request_id=request_id,
        )

    @staticmethod
    def _pick(result: dict, entity: str) -> Any:
        """``result[entity]`` with Intuit's spelling, whatever the caller's case."""
        if entity in result:
            return result[entity]
        low = entity.lower()
        for key, value in result.items():
            if key.lower() == low:
                return value
        raise QboPayloadError(f"The response has no {entity}", code="payload", payload=result)

    @staticmethod
    def new_request_id() -> str:
        return uuid.uuid4().hex

    # -- queries ----------------------------------------------------------------------------

    def query(self, sql: str) -> dict:
        """Run one query; returns the ``QueryResponse`` dict (``{}`` when nothing matched)."""
        if not isinstance(sql, str) or not sql.strip():
            raise QboValidationError("Empty query", code="invalid_query")
        result = self._post("query", body=sql, content_type="application/text")
        response = result.get("QueryResponse")
        if response is None:
            raise QboPayloadError("The response has no QueryResponse", payload=result)
        return response

    def _select(self, entity, where, order_by, *, start, size, extra_where=None) -> str:
        clauses = [c for c in (where, extra_where) if c]
        sql = f"SELECT * FROM {entity}"  # noqa: S608 - QBO query language, entity checked
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if order_by:
            sql += f" ORDERBY {order_by}"
        return sql + f" STARTPOSITION {int(start)} MAXRESULTS {int(size)}"

    def query_pages(
        self,
        entity: str,
        where: str = "",
        order_by: str = "MetaData.CreateTime",
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[list[dict]]:
        """Yield the pages of ``SELECT * FROM entity [WHERE] ORDERBY`` (STARTPOSITION paging);
        stops on the first short page."""
        self._check_entity(entity)
        page_size = int(page_size)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise QboValidationError(
                f"page_size must be between 1 and {MAX_PAGE_SIZE}", code="page_size"
            )
        start = 1
        while True:
            response = self.query(
                self._select(entity, where, order_by, start=start, size=page_size)
            )
            rows = self._rows(response, entity)
            if rows:
                yield rows
            if len(rows) < page_size:
                return
            start += len(rows)

    def query_page(
        self,
        entity: str,
        where: str = "",
        order_by: str = "MetaData.CreateTime",
        *,
        start: int = 1,
        size: int = MAX_PAGE_SIZE,
    ) -> list[dict]:
        """One page of ``SELECT * FROM entity [WHERE] ORDERBY`` from ``start`` (1-based)."""
        self._check_entity(entity)
        if not 1 <= int(size) <= MAX_PAGE_SIZE:
            raise QboValidationError(f"size must be between 1 and {MAX_PAGE_SIZE}", code="size")
        response = self.query(self._select(entity, where, order_by, start=start, size=size))
        return self._rows(response, entity)

    @classmethod
    def _rows(cls, response: dict, entity: str) -> list[dict]:
        try:
            rows = cls._pick(response, entity)
        except QboPayloadError:
            return []
        if not isinstance(rows, list):
            raise QboPayloadError(f"QueryResponse.{entity} is not a list", payload=response)
        return rows

    def query_all(
        self,
        entity: str,
        where: str = "",
        order_by: str = "MetaData.CreateTime",
        page_size: int = MAX_PAGE_SIZE,
    ) -> list[dict]:
        """Every row of :meth:`query_pages`, in one list."""
        rows: list[dict] = []
        for page in self.query_pages(entity, where, order_by, page_size):
            rows.extend(page)
        return rows

    def count(self, entity: str, where: str = "") -> int:
        """``SELECT COUNT(*) FROM entity [WHERE where]``."""
        self._check_entity(entity)
        sql = f"SELECT COUNT(*) FROM {entity}"  # noqa: S608 - QBO query language
        if where:
            sql += f" WHERE {where}"
        response = self.query(sql)
        try:
            return int(response.get("totalCount", 0))
        except (TypeError, ValueError):
            raise QboPayloadError("Invalid totalCount", payload=response)

    # pylint: disable-next=method-required-super
    def read(self, entity: str, entity_id: str) -> dict:
        """``GET /<entity>/<id>``: the entity dict."""
        self._check_entity(entity)
        result = self._get(entity.lower(), self._check_id(entity_id))
        return self._pick(result, entity)

    def read_many(
        self, entity: str, ids: Iterable[Any], include_inactive: bool = False
    ) -> list[dict]:
        """Read many entities by Id: one ``Id IN (...)`` query per 1000 ids.

        ``include_inactive`` adds ``Active IN (true, false)`` (name lists only)."""
        self._check_entity(entity)
        unique = list(dict.fromkeys(self._check_id(i) for i in ids))
        rows: list[dict] = []
        extra = "Active IN (true, false)" if include_inactive else None
        for offset in range(0, len(unique), MAX_PAGE_SIZE):
            chunk = unique[offset : offset + MAX_PAGE_SIZE]
            where = "Id IN (" + ", ".join(quote(i) for i in chunk) + ")"
            response = self.query(
                self._select(entity, where, "", start=1, size=MAX_PAGE_SIZE, extra_where=extra)
            )
            rows.extend(self._rows(response, entity))
        return rows

    # -- writes -----------------------------------------------------------------------------

    # pylint: disable-next=method-required-super
    def create(self, entity: str, body: dict, request_id: str | None = None) -> dict:
        """Create an entity; returns it as QBO answered (Id, SyncToken, ...)."""
        self._check_entity(entity)
        result = self._post(
            entity.lower(), body=body, request_id=request_id or self.new_request_id()
        )
        return self._pick(result, entity)

    def upload(
        self,
        filename: str,
        content: bytes,
        content_type: str,
        entity_ref: dict,
        *,
        request_id: str | None = None,
    ) -> dict:
        """``POST /upload`` (free): one file attached to ``entity_ref`` ({"type": "Invoice",
        "value": id}); returns the Attachable. The multipart body is python-quickbooks' (the
        content base64-encoded); a Fault inside the HTTP 200 (type, size) is raised."""
        boundary = "----BillerGenieQbo" + uuid.uuid4().hex
        metadata = {
            "AttachableRef": [{"EntityRef": entity_ref, "IncludeOnSend": False}],
            "FileName": filename,
            "ContentType": content_type,
        }
        safe_name = filename.replace('"', "").replace("\r", "").replace("\n", "")
        body = (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file_metadata_01"\r\n'
            "Content-Type: application/json; charset=UTF-8\r\n\r\n"
            f"{json.dumps(metadata)}\r\n"
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file_content_01"; filename="{safe_name}"\r\n'
            f"Content-Type: {content_type}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
            f"{base64.b64encode(content).decode()}\r\n"
            f"--{boundary}--\r\n"
        )
        result = self._post(
            "upload",
            body=body,
            request_id=request_id or self.new_request_id(),
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        entries = result.get("AttachableResponse") or []
        entry = entries[0] if entries and isinstance(entries[0], dict) else {}
        if entry.get("Fault"):
            raise error_from_fault(entry["Fault"], status=self.last_status, payload=result)
        if not isinstance(entry.get("Attachable"), dict):
            raise QboPayloadError(
                "QuickBooks answered the upload without an Attachable",
                status=self.last_status,
                intuit_tid=self.last_intuit_tid,
                payload=result,
            )
        return entry["Attachable"]

    def update(
        self, entity: str, body: dict, request_id: str | None = None, sparse: bool = True
    ) -> dict:
        """Update an entity (``body`` with Id and SyncToken); sparse by default."""
        self._check_entity(entity)
        if not isinstance(body, dict) or not body.get("Id") or body.get("SyncToken") is None:
            raise QboValidationError("An update needs Id and SyncToken", code="missing_id")
        payload = dict(body)
        payload["sparse"] = bool(sparse)
        result = self._post(
            entity.lower(), body=payload, request_id=request_id or self.new_request_id()
        )
        return self._pick(result, entity)

    def delete(
        self, entity: str, entity_id: str, sync_token: str, request_id: str | None = None
    ) -> dict:
        """``operation=delete``; returns QBO's answer (``{"status": "Deleted", "Id": ...}``)."""
        self._check_entity(entity)
        body = {"Id": self._check_id(entity_id), "SyncToken": str(sync_token)}
        result = self._post(
            entity.lower(),
            body=body,
            params={"operation": "delete"},
            request_id=request_id or self.new_request_id(),
        )
        return self._pick(result, entity)

    def void(
        self, entity: str, entity_id: str, sync_token: str, request_id: str | None = None
    ) -> dict:
        """Void a transaction: Invoice ``operation=void``; Payment and SalesReceipt
        ``operation=update&include=void`` (sparse)."""
        self._check_entity(entity)
        body: dict[str, Any] = {"Id": self._check_id(entity_id), "SyncToken": str(sync_token)}
        if entity.lower() in _VOID_BY_UPDATE:
            body["sparse"] = True
            params = {"operation": "update", "include": "void"}
        else:
            params = {"operation": "void"}
        result = self._post(
            entity.lower(),
            body=body,
            params=params,
            request_id=request_id or self.new_request_id(),
        )
        return self._pick(result, entity)

    def batch(self, items: Iterable[dict], request_id: str | None = None) -> list[BatchResult]:
        """Run items through ``/batch``, 30 per request; one :class:`BatchResult` per item, in
        input order.

        An item is ``{"bId", "operation", "entity", "body"}`` (operation create/update/delete,
        or another operation QBO accepts in a batch, with optional ``"options"``) or
        ``{"bId", "query"}``. ``bId`` defaults to the item's position."""
        requests_: list[dict] = []
        seen: set[str] = set()
        for index, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise QboValidationError("A batch item must be a dict", code="batch_item")
            bid = str(item.get("bId") or index)
            if bid in seen:
                raise QboValidationError(f"Duplicate bId {bid!r}", code="batch_item")
            seen.add(bid)
            query = item.get("query") or item.get("Query")
            if query:
                requests_.append({"bId": bid, "Query": query})
                continue
            entity = self._check_entity(item.get("entity"))
            operation = item.get("operation")
            body = item.get("body")
            if not operation or not isinstance(body, dict):
                raise QboValidationError(
                    f"Batch item {bid}: operation and body are required", code="batch_item"
                )
            request = {"bId": bid, "operation": operation, entity: body}
            if item.get("options"):
                request["optionsData"] = item["options"]
            requests_.append(request)
        results: list[BatchResult] = []
        base_id = request_id or self.new_request_id()
        for number, offset in enumerate(range(0, len(requests_), BATCH_SIZE)):
            chunk = requests_[offset : offset + BATCH_SIZE]
            chunk_id = base_id if len(requests_) <= BATCH_SIZE else f"{base_id}-{number}"
            result = self._post("batch", body={"BatchItemRequest": chunk}, request_id=chunk_id)
            results.extend(self._batch_results(chunk, result))
        return results

    def _batch_results(self, chunk: list[dict], result: dict) -> list[BatchResult]:
        responses = result.get("BatchItemResponse")
        if not isinstance(responses, list):
            raise QboPayloadError("The batch response has no BatchItemResponse", payload=result)
        by_id = {str(r.get("bId")): r for r in responses if isinstance(r, dict)}
        tid = self.last_intuit_tid
        out = []
        for request in chunk:
            bid = request["bId"]
            response = by_id.get(bid)
            if response is None:
                error = QboPayloadError(
                    f"No response for batch item {bid}", code="batch_missing", intuit_tid=tid
                )
                out.append(BatchResult(bId=bid, error=error))
                continue
            fault = response.get("Fault")
            if fault is not None:
                error = error_from_fault(fault, status=None, intuit_tid=tid, payload=response)
                out.append(BatchResult(bId=bid, error=error, raw=response))
                continue
            name, entity = None, None
            for key, value in response.items():
                if key not in ("bId", "time") and isinstance(value, dict):
                    name, entity = key, value
                    break
            if entity is None:
                error = QboPayloadError(
                    f"Empty response for batch item {bid}", code="batch_empty", intuit_tid=tid
                )
                out.append(BatchResult(bId=bid, error=error, raw=response))
                continue
            out.append(BatchResult(bId=bid, entity_name=name, entity=entity, raw=response))
        return out

    # -- change data capture and company ----------------------------------------------------

    def cdc(
        self, entities: Iterable[str], changed_since: datetime.datetime | datetime.date
    ) -> tuple[dict[str, list[dict]], datetime.datetime]:
        """Change data capture: ``({entity: [changed and deleted dicts]}, server_time)``.

        Deleted entities carry ``status == "Deleted"``. QBO returns at most 1000 objects per
        response and looks back 30 days at most: use the returned server time as the next
        ``changed_since``."""
        names = [self._check_entity(e) for e in entities]
        if not names:
            raise QboValidationError("cdc needs at least one entity", code="cdc_entities")
        if changed_since is None:
            raise QboValidationError("cdc needs changed_since", code="cdc_changed_since")
        result = self._get(
            "cdc",
            params={"entities": ",".join(names), "changedSince": _fmt_datetime(changed_since)},
        )
        changes: dict[str, list[dict]] = {name: [] for name in names}
        canonical = {name.lower(): name for name in names}
        blocks = result.get("CDCResponse")
        if not isinstance(blocks, list):
            raise QboPayloadError("The response has no CDCResponse", payload=result)
        for block in blocks:
            for query_response in (block or {}).get("QueryResponse") or []:
                if not isinstance(query_response, dict):
                    continue
                for key, value in query_response.items():
                    if isinstance(value, list):
                        name = canonical.get(key.lower(), key)
                        changes.setdefault(name, []).extend(value)
        total = sum(len(v) for v in changes.values())
        if total >= 1000:
            _logger.warning(
                "%s: CDC returned %d objects (limit 1000): shorten the window",
                self.log_name,
                total,
            )
        return changes, parse_qbo_datetime(result.get("time"))

    def preferences(self) -> dict:
        """The company's Preferences (SalesFormsPrefs.CustomTxnNumbers, custom fields, ...)."""
        return self._pick(self._get("preferences"), "Preferences")

    def company_info(self) -> dict:
        """The CompanyInfo entity of the realm."""
        return self._pick(self._get("companyinfo", self.realm_id), "CompanyInfo")


__all__ = [
    "BatchResult",
    "QboClient",
    "RateLimiter",
    "get_rate_limiter",
    "parse_qbo_datetime",
    "quote",
    "utcnow",
]
