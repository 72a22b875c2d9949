"""Typed errors of the QuickBooks Online client layer.

Every function of ``biller_genie_qbo.tools`` raises only subclasses of :class:`QboError`. Each
error carries Intuit's ``code`` (a string such as ``"6240"``, or one of ours such as
``"invalid_grant"``, ``"timeout"``, ``"http_503"``), ``message``, ``detail``, the HTTP ``status``,
the ``intuit_tid`` of the response and the parsed body (``payload``). Tokens never appear in
them.
"""

from __future__ import annotations

from typing import Any


class QboError(Exception):
    """Base class of every error of the QBO client layer."""

    default_code = "error"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | int | None = None,
        detail: str = "",
        status: int | None = None,
        intuit_tid: str | None = None,
        element: str | None = None,
        payload: Any = None,
    ):
        self.code = str(code) if code not in (None, "") else self.default_code
        self.message = message or ""
        self.detail = detail or ""
        self.status = status
        self.intuit_tid = intuit_tid
        self.element = element or None
        self.payload = payload
        super().__init__(self.message)

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}" if self.message else f"[{self.code}]"
        if self.detail and self.detail != self.message:
            text += f": {self.detail}"
        if self.element:
            text += f" (element {self.element})"
        extras = []
        if self.status:
            extras.append(f"HTTP {self.status}")
        if self.intuit_tid:
            extras.append(f"intuit_tid {self.intuit_tid}")
        if extras:
            text += " [" + ", ".join(extras) + "]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"status={self.status!r}, intuit_tid={self.intuit_tid!r})"
        )


class QboAuthError(QboError):
    """Authentication failed: a 401 that a token refresh did not fix, or invalid_client."""

    default_code = "auth"


class QboReconnectRequired(QboError):
    """The grant is gone (invalid_grant, revoked, expired refresh token): reconnect."""

    default_code = "invalid_grant"


class QboThrottled(QboError):
    """HTTP 429 / Fault 3001 still answered after the configured retries."""

    default_code = "3001"


class QboServerError(QboError):
    """5xx, timeouts or connection errors still failing after the configured retries."""

    default_code = "server_error"


class QboValidationError(QboError):
    """A business or validation Fault (codes 2000-6999 and other 4xx answers)."""

    default_code = "validation"


class QboStaleObject(QboError):
    """Fault 5010: the SyncToken sent is not the current one."""

    default_code = "5010"


class QboNotFound(QboError):
    """Fault 610: object not found (or made inactive, or already deleted)."""

    default_code = "610"


class QboDuplicate(QboError):
    """Duplicate name (6240) or duplicate document number (6140, 6210)."""

    default_code = "6240"


class QboPayloadError(QboError):
    """A body that cannot be understood: malformed webhook, unparsable API response."""

    default_code = "payload"


class QboSetupError(QboError):
    """The two companies cannot be synced as they are set up (e.g. QuickBooks keeps its books in
    another currency than the Odoo company): nothing is synced; ``message`` says what to do."""

    default_code = "setup"


DUPLICATE_CODES = frozenset({"6140", "6210", "6240"})
AUTH_CODES = frozenset({"100", "120", "3100", "3200", "3201", "3202"})
THROTTLE_CODES = frozenset({"3001", "3002", "3003"})


def _code_int(code: str) -> int | None:
    try:
        return int(code)
    except (TypeError, ValueError):
        return None


def error_class_for(code: str | int | None, status: int | None = None) -> type[QboError]:
    """The :class:`QboError` subclass for an Intuit fault code (and HTTP status)."""
    code = "" if code is None else str(code).strip()
    if code == "5010":
        return QboStaleObject
    if code == "610":
        return QboNotFound
    if code in DUPLICATE_CODES:
        return QboDuplicate
    if code in THROTTLE_CODES or status == 429:
        return QboThrottled
    if code in AUTH_CODES or status in (401, 403):
        return QboAuthError
    number = _code_int(code)
    if status is not None and status >= 500:
        return QboServerError
    if number is not None and number >= 10000:
        return QboServerError
    if number is not None and 2000 <= number <= 6999:
        return QboValidationError
    if status is not None and 400 <= status < 500:
        return QboValidationError
    if number is not None and 0 < number < 2000:
        # 500 "Unsupported Operation", 6xx general faults, ... answered with HTTP 400
        return QboValidationError
    return QboError


def _first_error(fault: Any) -> dict:
    """The first error dict of a Fault, in either spelling (``Error`` or lower-case ``error``)."""
    if not isinstance(fault, dict):
        return {}
    errors = fault.get("Error")
    if errors is None:
        errors = fault.get("error")
    if isinstance(errors, dict):
        return errors
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return errors[0]
    return {}


def _get(err: dict, *names: str) -> Any:
    for name in names:
        if err.get(name) not in (None, ""):
            return err[name]
    return None


def error_from_fault(
    fault_dict: Any,
    status: int | None = None,
    intuit_tid: str | None = None,
    *,
    payload: Any = None,
) -> QboError:
    """Build the typed error for an Intuit ``Fault`` object (``{"Error": [...], "type": ...}``).

    Accepts the standard body (``Error``/``Message``/``Detail``/``code``), the non-standard
    lower-case 401 body (``error``/``message``/``detail``), or a whole response body containing
    ``Fault``/``fault``. Several errors in one fault keep the first for the code and join the
    details.
    """
    if isinstance(fault_dict, dict) and ("Fault" in fault_dict or "fault" in fault_dict):
        payload = fault_dict if payload is None else payload
        fault_dict = fault_dict.get("Fault") or fault_dict.get("fault")
    err = _first_error(fault_dict)
    code = _get(err, "code", "Code")
    code = str(code).strip() if code is not None else ""
    message = str(_get(err, "Message", "message") or "")
    detail = str(_get(err, "Detail", "detail") or "")
    element = _get(err, "element", "Element")
    if isinstance(fault_dict, dict):
        errors = fault_dict.get("Error") or fault_dict.get("error")
        if isinstance(errors, list) and len(errors) > 1:
            others = [
                str(_get(e, "Detail", "detail") or _get(e, "Message", "message") or "")
                for e in errors[1:]
                if isinstance(e, dict)
            ]
            detail = " | ".join([detail, *[o for o in others if o]]).strip(" |")
    if not code and status:
        code = f"http_{status}"
    cls = error_class_for(code, status)
    return cls(
        message or (f"HTTP {status}" if status else "QuickBooks Online fault"),
        code=code or None,
        detail=detail,
        status=status,
        intuit_tid=intuit_tid,
        element=str(element) if element not in (None, "") else None,
        payload=payload if payload is not None else fault_dict,
    )
