"""TaxService, ExchangeRate, Attachable upload, invoice links and metering (API_FACTS §4, §8,
§9 and Intuit's entity pages)."""

from __future__ import annotations

import base64
import datetime as _dt
import email.parser
import email.policy
import json
import threading
from collections import Counter
from decimal import Decimal

from . import entities as E
from . import faults
from .util import TZ

# ---------------------------------------------------------------- TaxService


def taxservice_create(realm, payload):
    """POST /taxservice/taxcode: {"TaxCode": name, "TaxRateDetails": [{"TaxRateName",
    "RateValue", "TaxAgencyId", "TaxApplicableOn"} | {"TaxRateId", "TaxApplicableOn"}]}.
    Answers Intuit's unwrapped TaxService object with TaxCodeId and each rate's TaxRateId."""
    from .companies import make_code
    from .seed import _raw

    name = payload.get("TaxCode")
    if not isinstance(name, str) or not name.strip():
        raise faults.required_missing("TaxCode")
    if len(name) > 100:
        raise faults.length_exceeds("TaxCode", 100, name)
    if any(c["Name"].lower() == name.strip().lower() for c in realm.objects("TaxCode")):
        raise faults.duplicate_name("tax code")
    details = payload.get("TaxRateDetails")
    if not isinstance(details, list) or not details:
        raise faults.required_missing("TaxRateDetails")
    rates, out = [], []
    for d in details:
        if not isinstance(d, dict):
            raise faults.request_parse("TaxRateDetails entries must be objects")
        applicable = d.get("TaxApplicableOn") or "Sales"
        if applicable not in ("Sales", "Purchase"):
            raise faults.QBOFault(
                2040,
                "Invalid Enumeration",
                f"Invalid Enumeration : TaxApplicableOn. Supplied value:{applicable}",
                "TaxApplicableOn",
            )
        if d.get("TaxRateId") not in (None, ""):
            rate = realm.get("TaxRate", str(d["TaxRateId"]))
            if rate is None:
                raise faults.object_not_found("TaxRateDetails.TaxRateId")
        else:
            rname = d.get("TaxRateName")
            if not rname:
                raise faults.required_missing("TaxRateDetails.TaxRateName")
            try:
                value = Decimal(str(d.get("RateValue")))
            except Exception:
                raise faults.invalid_number("RateValue", d.get("RateValue")) from None
            agency = realm.get("TaxAgency", str(d.get("TaxAgencyId", "")))
            if agency is None:
                raise faults.object_not_found("TaxRateDetails.TaxAgencyId")
            rate = _raw(
                realm,
                "TaxRate",
                {
                    "Name": rname,
                    "Description": rname,
                    "Active": True,
                    "RateValue": value,
                    "AgencyRef": {"value": agency["Id"]},
                    "SpecialTaxType": "NONE",
                    "DisplayType": "ReadOnly",
                    "EffectiveTaxRate": [
                        {"RateValue": value, "EffectiveDate": realm.today() + "T00:00:00-08:00"}
                    ],
                },
            )
            realm.store.emit(realm, "TaxRate", rate["Id"], "Create", rate["MetaData"]["CreateTime"])
        if applicable == "Sales":
            rates.append((rate, "TaxOnAmount"))
        out.append(
            {
                "TaxRateName": rate["Name"],
                "TaxRateId": rate["Id"],
                "RateValue": rate["RateValue"],
                "TaxAgencyId": rate["AgencyRef"]["value"],
                "TaxApplicableOn": applicable,
            }
        )
    code = make_code(realm, name.strip(), rates)
    realm.store.emit(realm, "TaxCode", code["Id"], "Create", code["MetaData"]["CreateTime"])
    return {"TaxCode": code["Name"], "TaxCodeId": code["Id"], "TaxRateDetails": out}


# ---------------------------------------------------------------- ExchangeRate


def _rate_obj(realm, code, date, rate):
    return {
        "SourceCurrencyCode": code,
        "TargetCurrencyCode": realm.home_currency(),
        "Rate": E.exchange_rate(rate) if rate is not None else None,
        "AsOfDate": date,
        "domain": "QBO",
        "sparse": False,
        "SyncToken": str(len(realm.rates.get(code, {}))),
        "MetaData": {"LastUpdatedTime": realm.clock.iso()},
    }


def _need_mc(realm):
    if not realm.pref.get("MultiCurrencyEnabled"):
        raise faults.business("Multicurrency is not turned on for this company.", "")


def exchange_rate_get(realm, source, asofdate):
    """GET /exchangerate?sourcecurrencycode=EUR[&asofdate=YYYY-MM-DD] (default today)."""
    _need_mc(realm)
    if not source:
        raise faults.required_missing("sourcecurrencycode")
    source = source.upper()
    date = asofdate or realm.today()
    try:
        _dt.date.fromisoformat(date)
    except ValueError:
        raise faults.invalid_date("asofdate", date) from None
    if source not in realm.currencies():
        raise faults.object_not_found("sourcecurrencycode")
    return _rate_obj(realm, source, date, realm.exchange_rate(source, date))


def exchange_rate_set(realm, payload):
    """POST /exchangerate {"SourceCurrencyCode","TargetCurrencyCode","Rate","AsOfDate",
    "SyncToken"}: sets the rate of that day."""
    _need_mc(realm)
    src = str(payload.get("SourceCurrencyCode") or "").upper()
    if src not in realm.currencies() or src == realm.home_currency():
        raise faults.object_not_found("SourceCurrencyCode")
    tgt = payload.get("TargetCurrencyCode") or realm.home_currency()
    if tgt != realm.home_currency():
        raise faults.business("TargetCurrencyCode must be the home currency.", "TargetCurrencyCode")
    try:
        rate = Decimal(str(payload.get("Rate")))
    except Exception:
        raise faults.invalid_number("Rate", payload.get("Rate")) from None
    rate = E.exchange_rate(rate) if rate > 0 else rate  # 6 decimals are kept
    if rate <= 0:
        raise faults.business("The exchange rate must be positive.", "Rate")
    date = payload.get("AsOfDate") or realm.today()
    try:
        _dt.date.fromisoformat(str(date)[:10])
    except ValueError:
        raise faults.invalid_date("AsOfDate", date) from None
    realm.rates.setdefault(src, {})[str(date)[:10]] = rate
    return _rate_obj(realm, src, str(date)[:10], rate)


def exchange_rate_rows(realm, where):
    """The objects ``SELECT * FROM ExchangeRate [WHERE AsOfDate = '…']`` filters."""
    if not realm.pref.get("MultiCurrencyEnabled"):
        return []
    date = realm.today()
    for c in where:
        if c.path and c.path[0].lower() == "asofdate" and c.op == "=" and c.values:
            date = str(c.values[0])[:10]
    out = []
    for code in realm.pref.get("Currencies", []):
        r = realm.exchange_rate(code, date)
        if r is not None:
            out.append({"Id": code, **_rate_obj(realm, code, date, r)})
    return out


# ---------------------------------------------------------------- Attachable upload

ALLOWED_TYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/jpg",
    "image/gif",
    "image/tiff",
    "image/bmp",
    "text/plain",
    "text/csv",
    "text/xml",
    "application/xml",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/rtf",
}
MAX_UPLOAD = 100 * 1024 * 1024  # QBO's attachment limit


def _fault_json(f):
    return json.dumps({"Fault": f.fault()})


def upload(realm, content_type, body, base_url):
    """POST /upload (multipart/form-data): parts file_metadata_NN (an Attachable JSON) and
    file_content_NN (the bytes, optionally base64). One AttachableResponse entry per file:
    {"Attachable": …} or, inside the HTTP 200, {"Fault": …}."""
    if "multipart/form-data" not in content_type.lower():
        raise faults.request_parse("upload needs multipart/form-data")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body.lstrip(b"\r\n")
    )
    if not msg.is_multipart():
        raise faults.request_parse("no multipart body")
    meta, files = {}, {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition") or ""
        key = name.rsplit("_", 1)[-1]
        if name.startswith("file_metadata"):
            try:
                meta[key] = json.loads(part.get_payload(decode=True) or b"null")
            except Exception:
                meta[key] = None
        elif name.startswith("file_content"):
            raw = part.get_payload(decode=True) or b""
            files[key] = (raw, part.get_content_type(), part.get_filename())
    if not files:
        raise faults.required_missing("file_content")
    out = []
    for key in sorted(files):
        raw, ctype, fname = files[key]
        md = meta.get(key) or {}
        try:
            if not isinstance(md, dict):
                raise faults.request_parse("file_metadata must be an Attachable object")
            ctype = md.get("ContentType") or ctype
            if ctype.lower() not in ALLOWED_TYPES:
                raise faults.QBOFault(
                    6000,
                    "A business validation error has occurred while processing your request",
                    f"Business Validation Error: Unsupported file type {ctype}.",
                    "ContentType",
                )
            if len(raw) > MAX_UPLOAD:
                raise faults.QBOFault(
                    6000,
                    "A business validation error has occurred while processing your request",
                    "Business Validation Error: The file is larger than 100 MB.",
                    "Size",
                )
            payload = {
                k: v for k, v in md.items() if k in E.KNOWN["Attachable"] and k not in E.READONLY
            }
            payload["FileName"] = md.get("FileName") or fname or f"upload-{key}"
            payload["ContentType"] = ctype
            payload["Size"] = Decimal(len(raw))
            obj = realm.create("Attachable", payload)
            uri = f"/v3/company/{realm.id}/download/{obj['Id']}"
            obj["FileAccessUri"] = uri
            obj["TempDownloadUri"] = f"{base_url}/_emulator/files/{realm.id}/{obj['Id']}"
            realm.files[obj["Id"]] = raw
            realm.cache["Attachable"].pop(obj["Id"], None)
            out.append('{"Attachable":' + realm.json("Attachable", obj["Id"]) + "}")
        except faults.QBOFault as f:
            out.append(_fault_json(f))
    return out


# ---------------------------------------------------------------- invoice link


def invoice_link(realm, inv, base_url):
    """A sharable link when the company takes online payments and the invoice allows them."""
    if not realm.pref.get("OnlinePayments"):
        return None
    if not any(
        inv.get(k)
        for k in (
            "AllowOnlinePayment",
            "AllowOnlineCreditCardPayment",
            "AllowOnlineACHPayment",
        )
    ):
        return None
    token = base64.urlsafe_b64encode(f"{realm.id}:{inv['Id']}".encode()).decode().rstrip("=")
    return f"{base_url}/_emulator/pay/{token}"


# ---------------------------------------------------------------- metering (§9)

METERED_KINDS = {"query", "cdc", "batch", "reports"}


def meter_class(method, kind):
    """CorePlus (metered) = every GET, query, CDC, batch, report; Core (free) = writes and
    attachment uploads (API_FACTS §9, a third-party transcription of Intuit's list)."""
    if method == "GET" or kind in METERED_KINDS:
        return "metered"
    return "free"


class Meter:
    """Per-realm monthly counters: metered / free / failed (not metered), by endpoint."""

    def __init__(self):
        self.lock = threading.Lock()
        self.month = None
        self.counts = Counter()
        self.by_endpoint = Counter()

    def __deepcopy__(self, memo):
        """A copy with its own lock (a saved company keeps its month's counts)."""
        twin = Meter()
        twin.month = self.month
        twin.counts = Counter(self.counts)
        twin.by_endpoint = Counter(self.by_endpoint)
        return twin

    def _roll(self, month):
        if month != self.month:
            self.month = month
            self.counts.clear()
            self.by_endpoint.clear()

    def blocked(self, month, allowance):
        with self.lock:
            self._roll(month)
            return allowance is not None and self.counts["metered"] >= int(allowance)

    def count(self, month, cls, endpoint):
        with self.lock:
            self._roll(month)
            self.counts[cls] += 1
            self.by_endpoint[f"{cls} {endpoint}"] += 1

    def state(self, month, allowance):
        with self.lock:
            self._roll(month)
            return {
                "month": self.month,
                "metered": self.counts["metered"],
                "free": self.counts["free"],
                "failed": self.counts["failed"],
                "allowance": allowance,
                "blocked": allowance is not None and self.counts["metered"] >= int(allowance),
                "by_endpoint": dict(self.by_endpoint),
            }

    def set(self, month, metered=None, reset=False):
        with self.lock:
            self._roll(month)
            if reset:
                self.counts.clear()
                self.by_endpoint.clear()
            if metered is not None:
                self.counts["metered"] = int(metered)


def month_of(ts):
    return _dt.datetime.fromtimestamp(ts, TZ).strftime("%Y-%m")


ALLOWANCE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="{time}">'
    '<Fault type="SERVICE"><Error code="3001">'
    "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
    "<Detail>The monthly allowance of {allowance} CorePlus API calls has been reached; "
    "CorePlus calls are blocked until next month.</Detail>"
    "</Error></Fault></IntuitResponse>"
)


def allowance_xml(ts, allowance) -> bytes:
    from .util import fmt_time_ms

    return ALLOWANCE_XML.format(time=fmt_time_ms(ts), allowance=allowance).encode()
