"""The one Intuit time parser (``tools/qbo_time.py``) and the three contracts built on it: every
count of fractional digits (Python 3.10's ``fromisoformat`` takes 3 or 6 only), offsets, ``Z``."""

import datetime

import pytest

from odoo.addons.biller_genie_qbo.models.qbo_binding import parse_qbo_datetime as binding_time
from odoo.addons.biller_genie_qbo.tools import qbo_client, qbo_webhook
from odoo.addons.biller_genie_qbo.tools.qbo_errors import QboPayloadError
from odoo.addons.biller_genie_qbo.tools.qbo_time import parse_intuit_time

DIGITS = "123456789"


@pytest.mark.parametrize("count", range(10))
def test_every_fraction_length(count):
    fraction = ("." + DIGITS[:count]) if count else ""
    micro = int(DIGITS[: min(count, 6)].ljust(6, "0")) if count else 0
    expected = datetime.datetime(2024, 1, 31, 18, 20, 30, micro)
    for text in (f"2024-01-31T10:20:30{fraction}-08:00", f"2024-01-31T18:20:30{fraction}Z"):
        assert parse_intuit_time(text) == expected
        assert qbo_client.parse_qbo_datetime(text) == expected
        assert qbo_webhook.parse_time(text) == expected
        # The binding keeps seconds: what it compares with MetaData.LastUpdatedTime.
        assert binding_time(text) == expected.replace(microsecond=0)


def test_offsets_and_empty():
    assert parse_intuit_time("2024-01-31T10:20:30+0530") == datetime.datetime(
        2024, 1, 31, 4, 50, 30
    )
    assert parse_intuit_time("2024-01-31T10:20:30") == datetime.datetime(2024, 1, 31, 10, 20, 30)
    assert parse_intuit_time(None) is None
    assert parse_intuit_time("") is None
    assert binding_time(None) is False
    assert binding_time("not a time") is False


@pytest.mark.parametrize(
    "value", ["yesterday", "2024-13-01T00:00:00Z", "2024-01-31T10:20:30+25:00", 42]
)
def test_invalid(value):
    with pytest.raises(QboPayloadError) as caught:
        parse_intuit_time(value)
    assert caught.value.code == "time"
    with pytest.raises(QboPayloadError) as caught:
        qbo_webhook.parse_time(value)
    assert caught.value.code == "webhook_time"
    with pytest.raises(QboPayloadError):
        qbo_client.parse_qbo_datetime(value)
