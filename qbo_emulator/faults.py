"""Intuit fault bodies and the fault-injection rules of the control API."""

from __future__ import annotations

import random
import threading
import time

from .util import fmt_time_ms


class QBOFault(Exception):
    """An API error answered with Intuit's JSON Fault body."""

    def __init__(self, code, message, detail="", element="", status=400, ftype="ValidationFault"):
        super().__init__(f"{code} {message}: {detail}")
        self.code = str(code)
        self.message = message
        self.detail = detail
        self.element = element
        self.status = status
        self.ftype = ftype

    def fault(self) -> dict:
        err = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element is not None:
            err["element"] = self.element
        return {"Error": [err], "type": self.ftype}

    def body(self) -> dict:
        return {"Fault": self.fault(), "time": fmt_time_ms(time.time())}


# ---- constructors for the faults Intuit answers ---------------------------------


def stale_object(entity=""):
    return QBOFault(
        5010,
        "Stale Object Error",
        "Stale Object Error : You and QuickBooks User were working on this at the same time. "
        "QuickBooks User finished before you did, so your work was not saved.",
        "SyncToken",
    )


def duplicate_name(kind="customer"):
    return QBOFault(
        6240,
        "Duplicate Name Exists Error",
        f"The name supplied already exists. : Another {kind} is already using this name. "
        "Please use a different name.",
        "",
    )


def duplicate_docnumber():
    return QBOFault(
        6140,
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. "
        "This number has already been used. DocNumber=",
        "DocNumber",
    )


def length_exceeds(element, maximum, value):
    return QBOFault(
        2050,
        "String length is either shorter or longer than supported by specification",
        f"String length specified does not match the supported length. Min:0 Max:{maximum} "
        f"supplied length:{len(value)}",
        element,
    )


def unknown_property(entity, prop, known):
    return QBOFault(
        2010,
        "Request has invalid or unsupported property",
        f'Property Name:Unrecognized field "{prop}" (class com.intuit.schema.finance.v3.'
        f"{entity}), not marked as ignorable ({len(known)} known properties: "
        + ", ".join(f'"{k}"' for k in sorted(known))
        + "])",
        prop,
    )


def invalid_id(value, element="Id"):
    return QBOFault(
        2030, "Invalid ID", f"Id should be a valid number. Supplied value:{value}", element
    )


def required_missing(element, detail=None):
    return QBOFault(
        2020,
        "Required param missing, need to supply the required value for the API",
        detail or f"Required parameter {element} is missing in the request",
        element,
    )


def object_not_found(element="", detail=None):
    return QBOFault(
        610,
        "Object Not Found",
        detail
        or "Object Not Found : Something you're trying to use has been made inactive. "
        "Check the fields with accounts, customers, items, vendors or employees.",
        element,
    )


def business(detail, element=""):
    return QBOFault(
        6000,
        "A business validation error has occurred while processing your request",
        "Business Validation Error: " + detail,
        element,
    )


def invalid_number(element, value):
    return QBOFault(
        2040, "Invalid Number", f"Invalid Number : {element}. Supplied value:{value}", element
    )


def invalid_date(element, value):
    return QBOFault(
        2040, "Invalid Date", f"Invalid Date : {element}. Supplied value:{value}", element
    )


def unsupported_operation(detail="Operation Unknown is not supported."):
    return QBOFault(500, "Unsupported Operation", detail, "")


def query_parser(detail):
    return QBOFault(4000, "Error parsing query", "QueryParserError: " + detail, "")


def query_validation(detail):
    return QBOFault(4001, "Invalid query", "QueryValidationError: " + detail, "")


def request_parse(detail):
    return QBOFault(
        2310, "Request has invalid or unsupported property", "Error parsing object: " + detail, ""
    )


def system_error():
    return QBOFault(
        10000,
        "An application error has occurred while processing your request",
        "System Failure Error: An unexpected error occurred while accessing or "
        "saving your data. Please wait a few minutes and try again. If the problem "
        "persists, contact customer support.",
        None,
        500,
        "SystemFault",
    )


def authorization_failed():
    return QBOFault(
        3100,
        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
        "",
        None,
        403,
        "AuthorizationFault",
    )


def body_401(detail="Token expired: token"):
    """Intuit's non-standard lower-case 401 body."""
    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": detail,
                    "code": "3200",
                    "element": None,
                }
            ],
            "type": "AUTHENTICATION",
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": int(time.time() * 1000),
        "status": None,
        "cdcresponse": [],
    }


WWW_AUTH_401 = 'Bearer realm="Intuit", error="invalid_token"'

THROTTLE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="{time}">'
    '<Fault type="SERVICE"><Error code="3001">'
    "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
    "<Detail>The request limit was reached.  Try again later</Detail>"
    "</Error></Fault></IntuitResponse>"
)


def throttle_xml() -> bytes:
    return THROTTLE_XML.format(time=fmt_time_ms(time.time())).encode()


HTML_503 = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head>"
    b"<body><center><h1>503 Service Temporarily Unavailable</h1></center>"
    b"</body></html>"
)

FAULT_KINDS = (
    "429",
    "500",
    "503",
    "timeout",
    "401",
    "timeout_after_write",
    "stale",
    "fault_200",
    "fault_200_nested",
    "fault_200_lower",
)


def fault_in_200():
    """The Fault an HTTP 200 can carry outside the batch endpoint (API_FACTS §4)."""
    return business("Injected fault inside an HTTP 200 answer.", "")


class FaultInjector:
    """Queued faults ('the next K matching calls') plus an optional random rate."""

    def __init__(self):
        self._lock = threading.Lock()
        self.rules: list[dict] = []
        self.rate = 0.0
        self.random_kinds: list[str] = []
        self.rng = random.Random(0)
        self.random_delay = 5.0

    def clear(self):
        with self._lock:
            self.rules.clear()
            self.rate = 0.0
            self.random_kinds = []

    def add(self, kind, count=1, path_contains=None, delay=5.0, after=0, body_contains=None):
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {FAULT_KINDS}")
        with self._lock:
            self.rules.append(
                {
                    "kind": kind,
                    "count": int(count),
                    "path_contains": path_contains or None,
                    "body_contains": body_contains or None,
                    "delay": float(delay),
                    "after": int(after or 0),
                }
            )

    def set_random(self, rate, kinds=None, seed=None, delay=5.0):
        kinds = list(kinds or ["429", "500", "503", "timeout"])
        for k in kinds:
            if k not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {k!r}")
        with self._lock:
            self.rate = float(rate)
            self.random_kinds = kinds
            self.rng = random.Random(seed)
            self.random_delay = float(delay)

    def state(self):
        with self._lock:
            return {
                "rules": [dict(r) for r in self.rules],
                "random": {"rate": self.rate, "kinds": list(self.random_kinds)},
            }

    def take(self, path: str, is_api: bool, body: bytes = b""):
        """Return the fault to apply to this request ({kind, delay}) or None. A rule's
        ``body_contains`` matches the request body (e.g. a query's text), case-insensitively."""
        with self._lock:
            for rule in self.rules:
                pc = rule["path_contains"]
                if pc is None and not is_api:
                    continue
                if pc is not None and pc not in path:
                    continue
                bc = rule.get("body_contains")
                if bc is not None and bc.lower() not in body.decode("utf-8", "replace").lower():
                    continue
                if rule["after"] > 0:  # this many matching calls pass untouched first
                    rule["after"] -= 1
                    return None
                rule["count"] -= 1
                if rule["count"] <= 0:
                    self.rules.remove(rule)
                return {"kind": rule["kind"], "delay": rule["delay"]}
            if self.rate > 0 and is_api and self.random_kinds:
                if self.rng.random() < self.rate:
                    return {"kind": self.rng.choice(self.random_kinds), "delay": self.random_delay}
        return None
