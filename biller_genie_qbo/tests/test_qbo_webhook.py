"""Webhook signature verification and payload parsing (pure functions, no emulator)."""

import base64
import datetime
import hashlib
import hmac
import json
import os

import pytest

from odoo.addons.biller_genie_qbo.tools import qbo_webhook
from odoo.addons.biller_genie_qbo.tools.qbo_errors import QboPayloadError

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")

# Intuit's own test vector (QuickBooks-V3-DotNET-SDK, Intuit.Ipp.WebhooksService.Test:
# WebhooksServiceTest.cs payload + AppSettings.json verifier token).
INTUIT_TOKEN = "00faeec4-08d0-4996-bb37-698ae19f0149"
INTUIT_SIGNATURE = "6q+xGyMirJupwKTh2/WBl2NcdxzxqdIbk3sneKTxLWM="
TOKEN = "test-verifier-token"


def _intuit_body():
    with open(os.path.join(DATA_DIR, "webhook_legacy_intuit_sdk.json"), "rb") as f:
        return f.read()


def _sign(body, token=TOKEN):
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


def _cloudevent(**overrides):
    event = {
        "specversion": "1.0",
        "id": "8f6b2f4e-4a43-4f57-9d4e-1b0f2f2f8a11",
        "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
        "type": "qbo.customer.updated.v1",
        "datacontenttype": "application/json",
        "time": "2025-11-12T18:20:05.123456789Z",
        "intuitentityid": "58",
        "intuitaccountid": "9341455307021048",
        "data": {},
    }
    event.update(overrides)
    return event


# ---- signature -------------------------------------------------------------------------------


def test_intuit_vector_fixture_is_exact():
    body = _intuit_body()
    assert len(body) == 264, "the fixture must be the exact 264 bytes (no trailing newline)"
    assert body.startswith(b'{"eventNotifications":[{"realmId":"1269959970"')


def test_signature_real_intuit_vector():
    assert qbo_webhook.verify_signature(_intuit_body(), INTUIT_TOKEN, INTUIT_SIGNATURE)


def test_signature_valid_and_helper():
    body = json.dumps([_cloudevent()]).encode()
    assert qbo_webhook.verify_signature(body, TOKEN, _sign(body))
    assert qbo_webhook.sign(body, TOKEN) == _sign(body)
    # surrounding whitespace of the header value is tolerated
    assert qbo_webhook.verify_signature(body, TOKEN, " " + _sign(body) + " ")


def test_signature_invalid():
    body = _intuit_body()
    assert not qbo_webhook.verify_signature(body, "another-token", INTUIT_SIGNATURE)
    assert not qbo_webhook.verify_signature(body + b" ", INTUIT_TOKEN, INTUIT_SIGNATURE)
    assert not qbo_webhook.verify_signature(
        body.replace(b"40", b"41"), INTUIT_TOKEN, INTUIT_SIGNATURE
    )
    other = _sign(b"something else", INTUIT_TOKEN)
    assert not qbo_webhook.verify_signature(body, INTUIT_TOKEN, other)


@pytest.mark.parametrize("header", [None, ""])
def test_signature_missing_header(header):
    assert qbo_webhook.verify_signature(_intuit_body(), INTUIT_TOKEN, header) is False


@pytest.mark.parametrize("token", [None, ""])
def test_signature_missing_token(token):
    # never accept a webhook when no verifier token is configured
    assert qbo_webhook.verify_signature(_intuit_body(), token, INTUIT_SIGNATURE) is False


@pytest.mark.parametrize(
    "header",
    [
        "not base64 at all!",
        "6q+xGyMirJupwKTh2/WBl2NcdxzxqdIbk3sneKTxLWM",  # padding missing
        "6q+xGyMirJupwKTh2/WBl2NcdxzxqdIbk3sneKTx",  # truncated
        base64.b64encode(b"short").decode(),  # valid base64, wrong length
        "ÿÿÿÿ",
    ],
)
def test_signature_garbled_header(header):
    assert qbo_webhook.verify_signature(_intuit_body(), INTUIT_TOKEN, header) is False


def test_signature_never_raises_on_odd_types():
    assert qbo_webhook.verify_signature(None, INTUIT_TOKEN, INTUIT_SIGNATURE) is False
    assert qbo_webhook.verify_signature(12, INTUIT_TOKEN, INTUIT_SIGNATURE) is False
    # a str body is the same bytes in UTF-8
    text = _intuit_body().decode()
    assert qbo_webhook.verify_signature(text, INTUIT_TOKEN, INTUIT_SIGNATURE)


# ---- legacy format ---------------------------------------------------------------------------


def test_parse_legacy_intuit_payload():
    events = qbo_webhook.parse_events(_intuit_body(), "application/json")
    assert [(e.realm_id, e.entity, e.entity_id, e.operation) for e in events] == [
        ("1269959970", "Vendor", "40", "Update"),
        ("1269959970", "Customer", "43", "Create"),
    ]
    assert events[0].occurred_at == datetime.datetime(2016, 10, 5, 3, 9, 4)
    assert events[0].occurred_at.tzinfo is None
    assert events[0].deleted_id is None
    assert events[0].raw["name"] == "Vendor"
    # deterministic event id: same notification, same id; different operation, other id
    again = qbo_webhook.parse_events(_intuit_body(), None)
    assert [e.event_id for e in again] == [e.event_id for e in events]
    assert events[0].event_id != events[1].event_id
    assert len(events[0].event_id) == 64


def test_parse_legacy_merge_and_operations():
    body = {
        "eventNotifications": [
            {
                "realmId": "123",
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": "Customer",
                            "id": "7",
                            "operation": "Merge",
                            "deletedId": "9",
                            "lastUpdated": "2024-03-01T10:00:00-08:00",
                        },
                        {"name": "Invoice", "id": "130", "operation": "Void"},
                        {"name": "invoice", "id": 131, "operation": "Emailed"},
                        {"name": "Payment", "id": "5", "operation": "Delete"},
                    ]
                },
            },
            {"realmId": "456", "dataChangeEvent": {"entities": []}},
        ]
    }
    events = qbo_webhook.parse_events(json.dumps(body).encode(), "application/json; charset=utf-8")
    assert [(e.entity, e.entity_id, e.operation) for e in events] == [
        ("Customer", "7", "Merge"),
        ("Invoice", "130", "Void"),
        ("Invoice", "131", "Emailed"),
        ("Payment", "5", "Delete"),
    ]
    assert events[0].deleted_id == "9"
    assert events[0].occurred_at == datetime.datetime(2024, 3, 1, 18, 0, 0)
    assert events[1].occurred_at is None


# ---- CloudEvents -----------------------------------------------------------------------------


def test_parse_cloudevents_array():
    body = json.dumps(
        [
            _cloudevent(),
            _cloudevent(
                id="e2",
                type="qbo.invoice.created.v1",
                intuitentityid="130",
                time="2025-11-12T10:20:05-08:00",
            ),
            _cloudevent(id="e3", type="qbo.salesreceipt.deleted.v1", intuitentityid="9"),
            _cloudevent(id="e4", type="qbo.payment.voided.v1", intuitentityid="10"),
        ]
    ).encode()
    events = qbo_webhook.parse_events(body, "application/json")
    assert [(e.event_id, e.entity, e.entity_id, e.operation) for e in events] == [
        ("8f6b2f4e-4a43-4f57-9d4e-1b0f2f2f8a11", "Customer", "58", "Update"),
        ("e2", "Invoice", "130", "Create"),
        ("e3", "SalesReceipt", "9", "Delete"),
        ("e4", "Payment", "10", "Void"),
    ]
    assert {e.realm_id for e in events} == {"9341455307021048"}
    # 9 fractional digits and Z
    assert events[0].occurred_at == datetime.datetime(2025, 11, 12, 18, 20, 5, 123456)
    # an offset is converted to naive UTC
    assert events[1].occurred_at == datetime.datetime(2025, 11, 12, 18, 20, 5)


def test_parse_cloudevents_nested_data_and_missing_datacontenttype():
    event = _cloudevent(
        data={"alternative_ids": [{"id": "58", "namespace": "Intuit.sbseg.v4"}], "x": {"y": [1]}}
    )
    del event["datacontenttype"]
    events = qbo_webhook.parse_events(json.dumps([event]).encode(), "application/cloudevents+json")
    assert len(events) == 1
    assert events[0].raw["data"]["alternative_ids"][0]["namespace"] == "Intuit.sbseg.v4"
    # no data at all
    del event["data"]
    assert qbo_webhook.parse_events(json.dumps([event]).encode(), None)[0].entity_id == "58"


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "application/cloudevents+json",
        "application/cloudevents+json; charset=UTF-8",
        "application/cloudevents-batch+json",
    ],
)
def test_parse_cloudevents_content_types(content_type):
    body = json.dumps([_cloudevent()]).encode()
    assert len(qbo_webhook.parse_events(body, content_type)) == 1


def test_parse_single_cloudevent_object_and_empty_array():
    body = json.dumps(_cloudevent(type="qbo.item.merged.v1", data={"deletedId": "12"})).encode()
    (event,) = qbo_webhook.parse_events(body, "application/cloudevents+json")
    assert (event.entity, event.operation, event.deleted_id) == ("Item", "Merge", "12")
    assert qbo_webhook.parse_events(b"[]", "application/json") == []


def test_parse_time_variants():
    parse = qbo_webhook.parse_time
    assert parse("2025-01-02T03:04:05Z") == datetime.datetime(2025, 1, 2, 3, 4, 5)
    assert parse("2025-01-02T03:04:05.1Z") == datetime.datetime(2025, 1, 2, 3, 4, 5, 100000)
    assert parse("2025-01-02T03:04:05.987654321+02:00") == datetime.datetime(
        2025, 1, 2, 1, 4, 5, 987654
    )
    assert parse("2025-01-02T03:04:05-0530") == datetime.datetime(2025, 1, 2, 8, 34, 5)
    assert parse("2025-01-02T03:04:05") == datetime.datetime(2025, 1, 2, 3, 4, 5)
    assert parse(None) is None


# ---- malformed bodies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"not json",
        b'{"eventNotifications": [',
        b"\xff\xfe\x00garbage",
        b"42",
        b'"a string"',
        b"null",
        b"{}",
        b'{"foo": "bar"}',
        b'{"eventNotifications": "nope"}',
        b'{"eventNotifications": [1]}',
        b'{"eventNotifications": [{"dataChangeEvent": {"entities": []}}]}',
        b'{"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": [{}]}}]}',
        b'{"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": {"a": 1}}}]}',
        b'{"eventNotifications": [{"realmId": "1", "dataChangeEvent": '
        b'{"entities": [{"name": "Customer", "operation": "Update"}]}}]}',
        b'{"eventNotifications": [{"realmId": "1", "dataChangeEvent": '
        b'{"entities": [{"name": "Customer", "id": "1", "operation": "Update", '
        b'"lastUpdated": "yesterday"}]}}]}',
        b"[1, 2]",
        b'[{"type": "qbo.customer.updated.v1"}]',
        b'[{"id": "1", "type": "qbo.customer.updated.v1", "intuitaccountid": "1"}]',
        b'[{"id": "1", "type": "qbo.customer.updated.v1", "intuitentityid": "1"}]',
        b'[{"id": "1", "type": "com.example.other", "intuitentityid": "1", '
        b'"intuitaccountid": "1"}]',
        b'[{"id": "1", "type": 5, "intuitentityid": "1", "intuitaccountid": "1"}]',
        b'[{"id": {"a": 1}, "type": "qbo.customer.updated.v1", "intuitentityid": "1", '
        b'"intuitaccountid": "1"}]',
        b'[{"id": "1", "type": "qbo.customer.updated.v1", "intuitentityid": "1", '
        b'"intuitaccountid": "1", "time": "2025-13-45T99:00:00Z"}]',
    ],
)
def test_parse_malformed_raises_payload_error(body):
    with pytest.raises(QboPayloadError):
        qbo_webhook.parse_events(body, "application/json")


def test_parse_rejects_non_json_content_type_and_non_bytes():
    body = json.dumps([_cloudevent()]).encode()
    with pytest.raises(QboPayloadError):
        qbo_webhook.parse_events(body, "text/html")
    with pytest.raises(QboPayloadError):
        qbo_webhook.parse_events(None, "application/json")
    with pytest.raises(QboPayloadError):
        qbo_webhook.parse_events(12345, "application/json")
