"""QuickBooks Online webhooks: signature verification and event parsing.

Intuit signs the raw request body: header ``intuit-signature`` =
base64(HMAC-SHA256(key=verifier token, message=raw body bytes)), for both payload formats.

Two formats are parsed into one :class:`WebhookEvent` per changed entity:

- legacy: ``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name", "id",
  "operation", "lastUpdated", "deletedId"?}]}}]}``;
- CloudEvents: a JSON array (or a single object) of ``{"specversion", "id", "source",
  "type": "qbo.<entity>.<action>.v1", "time", "intuitentityid", "intuitaccountid",
  "datacontenttype"?, "data"?}``, sent as ``application/json`` or
  ``application/cloudevents+json``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import hashlib
import hmac
import json
import re
from typing import Any

from .qbo_errors import QboPayloadError
from .qbo_time import parse_intuit_time

SIGNATURE_HEADER = "intuit-signature"

# Intuit's entity names, keyed by their lower-case spelling (CloudEvents types are lower-case).
ENTITY_NAMES = {
    name.lower(): name
    for name in (
        "Account",
        "Attachable",
        "Bill",
        "BillPayment",
        "Budget",
        "Class",
        "CompanyCurrency",
        "CompanyInfo",
        "CreditCardPayment",
        "CreditMemo",
        "Currency",
        "Customer",
        "CustomerType",
        "Department",
        "Deposit",
        "Employee",
        "Estimate",
        "ExchangeRate",
        "Invoice",
        "Item",
        "JournalCode",
        "JournalEntry",
        "Payment",
        "PaymentMethod",
        "Preferences",
        "Purchase",
        "PurchaseOrder",
        "RecurringTransaction",
        "RefundReceipt",
        "SalesReceipt",
        "TaxAgency",
        "TaxCode",
        "TaxRate",
        "Term",
        "TimeActivity",
        "Transfer",
        "Vendor",
        "VendorCredit",
    )
}

# Legacy operations and CloudEvents actions → the legacy operation names.
OPERATIONS = {
    "create": "Create",
    "created": "Create",
    "update": "Update",
    "updated": "Update",
    "delete": "Delete",
    "deleted": "Delete",
    "merge": "Merge",
    "merged": "Merge",
    "void": "Void",
    "voided": "Void",
    "emailed": "Emailed",
    "email": "Emailed",
}

_TYPE_RE = re.compile(r"^qbo\.([a-z0-9_]+)\.([a-z_]+)(?:\.v\d+)?$", re.IGNORECASE)
_JSON_TYPES = (
    "application/json",
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
)


# ---------------------------------------------------------------------------------------------
# Signature


def sign(raw_body: bytes, verifier_token: str) -> str:
    """The ``intuit-signature`` value of a body (used by tests and the emulator's peers)."""
    digest = hmac.new(verifier_token.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_signature(
    raw_body: bytes, verifier_token: str | None, signature_header: str | None
) -> bool:
    """True when ``signature_header`` is the base64 HMAC-SHA256 of ``raw_body`` keyed with the
    verifier token. Constant-time; False (never an exception) when anything is missing or
    garbled."""
    try:
        if not verifier_token or not signature_header:
            return False
        if isinstance(raw_body, str):
            raw_body = raw_body.encode("utf-8")
        if not isinstance(raw_body, (bytes, bytearray, memoryview)):
            return False
        header = signature_header.strip()
        try:
            given = base64.b64decode(header, validate=True)
        except (binascii.Error, ValueError):
            return False
        if len(given) != hashlib.sha256().digest_size:
            return False
        expected = hmac.new(
            str(verifier_token).encode("utf-8"), bytes(raw_body), hashlib.sha256
        ).digest()
        return hmac.compare_digest(expected, given)
    except Exception:  # a verifier must never raise
        return False


# ---------------------------------------------------------------------------------------------
# Events


@dataclasses.dataclass
class WebhookEvent:
    """One changed entity, whatever the payload format."""

    realm_id: str
    entity: str
    entity_id: str
    operation: str
    occurred_at: datetime.datetime | None
    event_id: str
    deleted_id: str | None = None
    raw: dict = dataclasses.field(default_factory=dict, repr=False)
    # Why the inbox refuses this event (stored as rejected, never applied); None when valid.
    problem: str | None = None


def parse_time(value: Any) -> datetime.datetime | None:
    """An event's time as naive UTC (None if empty); see :mod:`.qbo_time`."""
    return parse_intuit_time(value, code="webhook_time")


def _entity_name(name: Any) -> str:
    if not isinstance(name, str) or not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", name.strip()):
        raise QboPayloadError(f"Invalid entity name {name!r}", code="webhook_entity")
    name = name.strip()
    return ENTITY_NAMES.get(name.lower(), name[0].upper() + name[1:])


def _operation(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise QboPayloadError(f"Invalid operation {value!r}", code="webhook_operation")
    text = value.strip()
    return OPERATIONS.get(text.lower(), text[0].upper() + text[1:])


def _required_id(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise QboPayloadError(f"Missing or invalid {what}", code="webhook_id")
    text = str(value).strip()
    if not text:
        raise QboPayloadError(f"Missing {what}", code="webhook_id")
    return text


# QuickBooks ids are short alphanumeric strings; anything else is refused per event.
_ENTITY_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _entity_id(value: Any, what: str) -> str:
    text = _required_id(value, what)
    if not _ENTITY_ID_RE.match(text):
        raise QboPayloadError(f"Invalid {what} {text[:80]!r}", code="webhook_id")
    return text


def _unstorable(text: str) -> bool:
    """NUL and lone surrogates: text PostgreSQL cannot store."""
    return "\x00" in text or any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def clean_text(value: Any, limit: int = 255) -> str:
    """``value`` as storable text: NUL and lone surrogates replaced, cut to ``limit``."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = "".join(
        "\ufffd" if char == "\x00" or 0xD800 <= ord(char) <= 0xDFFF else char for char in text
    )
    return text[:limit]


def _check_text(document: Any, path: str = "event"):
    """Refuse an event carrying text PostgreSQL cannot store (anywhere in it)."""
    if isinstance(document, str):
        if _unstorable(document):
            raise QboPayloadError(
                f"{path} holds a NUL character or a lone surrogate", code="webhook_text"
            )
    elif isinstance(document, dict):
        for key, value in document.items():
            _check_text(key, path)
            _check_text(value, f"{path}.{key}" if isinstance(key, str) else path)
    elif isinstance(document, list):
        for value in document:
            _check_text(value, path)


def _optional_id(value: Any) -> str | None:
    if value in (None, "") or isinstance(value, bool):
        return None
    if isinstance(value, (str, int)):
        return str(value).strip() or None
    return None


def legacy_event_id(realm_id, entity, entity_id, operation, *, last_updated) -> str:
    """A deterministic id for a legacy notification (it carries none)."""
    key = "|".join(str(x or "") for x in (realm_id, entity, entity_id, operation, last_updated))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _rejected(realm_id: Any, raw: Any, error: QboPayloadError, event_id: Any = None):
    """A refused event, kept so that the inbox records why (when its company is known)."""
    realm = _optional_id(realm_id)
    if realm and not _ENTITY_ID_RE.match(realm):
        realm = None
    text = clean_text(raw, limit=100_000)
    identity = (
        event_id if isinstance(event_id, (str, int)) and not isinstance(event_id, bool) else None
    )
    return WebhookEvent(
        realm_id=realm or "",
        entity="?",
        entity_id="?",
        operation="?",
        occurred_at=None,
        event_id=clean_text(identity)
        if identity is not None
        else hashlib.sha256(text.encode("utf-8")).hexdigest(),
        raw={"rejected": text[:2000]},
        problem=clean_text(error.message, limit=500),
    )


def _parse_legacy_entity(realm_id: str, entity: Any) -> WebhookEvent:
    if not isinstance(entity, dict):
        raise QboPayloadError("A changed entity is not an object", code="webhook_shape")
    _check_text(entity, "entity")
    name = _entity_name(entity.get("name"))
    entity_id = _entity_id(entity.get("id"), "entity id")
    operation = _operation(entity.get("operation"))
    last_updated = entity.get("lastUpdated")
    deleted_id = _optional_id(entity.get("deletedId"))
    if deleted_id and not _ENTITY_ID_RE.match(deleted_id):
        raise QboPayloadError(f"Invalid deletedId {deleted_id[:80]!r}", code="webhook_id")
    return WebhookEvent(
        realm_id=realm_id,
        entity=name,
        entity_id=entity_id,
        operation=operation,
        occurred_at=parse_time(last_updated),
        event_id=legacy_event_id(realm_id, name, entity_id, operation, last_updated=last_updated),
        deleted_id=deleted_id,
        raw={"realmId": realm_id, **entity},
    )


def _parse_legacy(document: dict) -> list[WebhookEvent]:
    """The events of a legacy body; an entity that cannot be read becomes a rejected event of
    its realm (the others go on). A body whose shape is wrong raises."""
    notifications = document.get("eventNotifications")
    if not isinstance(notifications, list):
        raise QboPayloadError("eventNotifications is not a list", code="webhook_shape")
    events = []
    for notification in notifications:
        if not isinstance(notification, dict):
            raise QboPayloadError("An eventNotification is not an object", code="webhook_shape")
        realm_id = _entity_id(notification.get("realmId"), "realmId")
        change = notification.get("dataChangeEvent")
        if change is None:
            continue
        if not isinstance(change, dict) or not isinstance(change.get("entities", []), list):
            raise QboPayloadError("Invalid dataChangeEvent", code="webhook_shape")
        for entity in change.get("entities", []):
            try:
                events.append(_parse_legacy_entity(realm_id, entity))
            except QboPayloadError as error:
                events.append(_rejected(realm_id, entity, error))
    return events


def _deleted_id_of(event: dict) -> str | None:
    data = event.get("data")
    sources = [event]
    if isinstance(data, dict):
        sources.append(data)
    for source in sources:
        for key in ("deletedId", "deletedid", "intuitdeletedentityid", "deletedEntityId"):
            value = _optional_id(source.get(key))
            if value:
                return value
    return None


def _parse_cloudevent(event: Any) -> WebhookEvent:
    if not isinstance(event, dict):
        raise QboPayloadError("A CloudEvent is not an object", code="webhook_shape")
    _check_text(event, "CloudEvent")
    event_id = _required_id(event.get("id"), "CloudEvent id")
    event_type = event.get("type")
    match = _TYPE_RE.match(event_type.strip()) if isinstance(event_type, str) else None
    if not match:
        raise QboPayloadError(f"Unknown CloudEvent type {event_type!r}", code="webhook_type")
    data = event.get("data")
    if data is not None and not isinstance(data, (dict, list, str)):
        raise QboPayloadError("Invalid CloudEvent data", code="webhook_shape")
    deleted_id = _deleted_id_of(event)
    if deleted_id and not _ENTITY_ID_RE.match(deleted_id):
        raise QboPayloadError(f"Invalid deleted id {deleted_id[:80]!r}", code="webhook_id")
    return WebhookEvent(
        realm_id=_entity_id(event.get("intuitaccountid"), "intuitaccountid"),
        entity=_entity_name(match.group(1)),
        entity_id=_entity_id(event.get("intuitentityid"), "intuitentityid"),
        operation=_operation(match.group(2)),
        occurred_at=parse_time(event.get("time")),
        event_id=event_id,
        deleted_id=deleted_id,
        raw=event,
    )


def _parse_one_cloudevent(event: Any) -> WebhookEvent:
    """A CloudEvent, or a rejected event of its company when it cannot be read."""
    try:
        return _parse_cloudevent(event)
    except QboPayloadError as error:
        realm = event.get("intuitaccountid") if isinstance(event, dict) else None
        event_id = event.get("id") if isinstance(event, dict) else None
        return _rejected(realm, event, error, event_id=event_id)


def _check_content_type(content_type: str | None):
    if not content_type:
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if not media:
        return
    if media in _JSON_TYPES or media.endswith("+json") or media == "text/json":
        return
    raise QboPayloadError(f"Unsupported content type {media!r}", code="webhook_content_type")


def parse_delivery(raw_body: bytes, content_type: str | None = None) -> list[WebhookEvent]:
    """Parse a webhook body (legacy or CloudEvents) into :class:`WebhookEvent` objects, one per
    changed entity. An event that cannot be read (missing or invalid fields, a bad id, text
    PostgreSQL cannot store) is returned with ``problem`` set, so that the others of the same
    delivery go on; a body that is not a webhook at all raises :class:`QboPayloadError` (and
    nothing else)."""
    try:
        _check_content_type(content_type)
        if isinstance(raw_body, (bytes, bytearray, memoryview)):
            try:
                text = bytes(raw_body).decode("utf-8-sig")
            except UnicodeDecodeError:
                raise QboPayloadError("The webhook body is not UTF-8", code="webhook_encoding")
        elif isinstance(raw_body, str):
            text = raw_body
        else:
            raise QboPayloadError("The webhook body must be bytes", code="webhook_shape")
        if not text.strip():
            raise QboPayloadError("Empty webhook body", code="webhook_empty")
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise QboPayloadError(f"The webhook body is not JSON: {exc}", code="webhook_json")
        if isinstance(document, list):
            return [_parse_one_cloudevent(event) for event in document]
        if isinstance(document, dict):
            if "eventNotifications" in document:
                return _parse_legacy(document)
            if "type" in document or "specversion" in document:
                return [_parse_one_cloudevent(document)]
        raise QboPayloadError("Unknown webhook payload shape", code="webhook_shape")
    except QboPayloadError:
        raise
    except Exception as exc:  # the contract: only QboPayloadError
        raise QboPayloadError(f"Malformed webhook body ({type(exc).__name__})", code="webhook")


def parse_events(raw_body: bytes, content_type: str | None = None) -> list[WebhookEvent]:
    """Strict :func:`parse_delivery`: :class:`QboPayloadError` when any event is refused."""
    events = parse_delivery(raw_body, content_type)
    for event in events:
        if event.problem:
            raise QboPayloadError(event.problem, code="webhook_event")
    return events
