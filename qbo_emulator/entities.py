"""Per-entity schema, validation and server-computed fields.

``normalize(realm, entity, src, old)`` turns the client's (already merged, for sparse
updates) payload into the stored object, minus Id/SyncToken/MetaData which the store adds.
"""

from __future__ import annotations

import datetime as _dt
from decimal import ROUND_HALF_UP, Decimal

from . import faults, tax
from .util import ZERO, dec, money

COMMON = {"Id", "SyncToken", "MetaData", "domain", "sparse", "status"}

KNOWN = {
    "Customer": {
        "ARAccountRef",
        "Active",
        "AlternatePhone",
        "Balance",
        "BalanceWithJobs",
        "BillAddr",
        "BillWithParent",
        "CompanyName",
        "CurrencyRef",
        "DefaultTaxCodeRef",
        "DisplayName",
        "FamilyName",
        "Fax",
        "FullyQualifiedName",
        "GivenName",
        "IsProject",
        "Job",
        "Level",
        "MiddleName",
        "Mobile",
        "Notes",
        "OpenBalanceDate",
        "ParentRef",
        "PaymentMethodRef",
        "PreferredDeliveryMethod",
        "PrimaryEmailAddr",
        "PrimaryPhone",
        "PrimaryTaxIdentifier",
        "PrintOnCheckName",
        "ResaleNum",
        "SalesTermRef",
        "ShipAddr",
        "Suffix",
        "Taxable",
        "Title",
        "WebAddr",
        "TaxExemptionReasonId",
        "CustomerTypeRef",
        "V4IDPseudonym",
        "ClientEntityId",
        "SecondaryTaxIdentifier",
        "BusinessNumber",
        "GSTIN",
        "GSTRegistrationType",
        "IsCISContractor",
        "Source",
        "OtherContactInfo",
        "ContactName",
        "AltContactName",
        "TaxRegistrationNumber",
    },
    "Vendor": {
        "APAccountRef",
        "AcctNum",
        "Active",
        "AlternatePhone",
        "Balance",
        "BillAddr",
        "BillRate",
        "CompanyName",
        "CurrencyRef",
        "DisplayName",
        "FamilyName",
        "Fax",
        "GivenName",
        "MiddleName",
        "Mobile",
        "PrimaryEmailAddr",
        "PrimaryPhone",
        "PrintOnCheckName",
        "Suffix",
        "TaxIdentifier",
        "TaxReportingBasis",
        "TermRef",
        "Title",
        "Vendor1099",
        "WebAddr",
        "V4IDPseudonym",
        "OtherContactInfo",
        "CostRate",
        "GSTIN",
        "BusinessNumber",
    },
    "Employee": {
        "Active",
        "BillRate",
        "BillableTime",
        "BirthDate",
        "CostRate",
        "DisplayName",
        "EmailAddress",
        "EmployeeNumber",
        "FamilyName",
        "Gender",
        "GivenName",
        "HiredDate",
        "MiddleName",
        "Mobile",
        "Organization",
        "PrimaryAddr",
        "PrimaryPhone",
        "PrintOnCheckName",
        "ReleasedDate",
        "SSN",
        "Suffix",
        "Title",
        "PrimaryEmailAddr",
        "V4IDPseudonym",
    },
    "Item": {
        "AbatementRate",
        "Active",
        "AssetAccountRef",
        "Description",
        "ExpenseAccountRef",
        "FullyQualifiedName",
        "IncomeAccountRef",
        "InvStartDate",
        "ItemCategoryType",
        "Level",
        "Name",
        "ParentRef",
        "PurchaseCost",
        "PurchaseDesc",
        "PurchaseTaxCodeRef",
        "PurchaseTaxIncluded",
        "QtyOnHand",
        "ReverseChargeRate",
        "SalesTaxCodeRef",
        "SalesTaxIncluded",
        "ServiceType",
        "Sku",
        "SubItem",
        "Taxable",
        "TrackQtyOnHand",
        "Type",
        "UnitPrice",
        "ItemGroupDetail",
        "PrefVendorRef",
        "ClassRef",
        "ReorderPoint",
        "PrintGroupedItems",
        "UQCDisplayText",
        "UQCId",
        "TaxClassificationRef",
    },
    "Account": {
        "AccountSubType",
        "AccountType",
        "AcctNum",
        "Active",
        "Classification",
        "CurrencyRef",
        "CurrentBalance",
        "CurrentBalanceWithSubAccounts",
        "Description",
        "FullyQualifiedName",
        "Name",
        "ParentRef",
        "SubAccount",
        "TaxCodeRef",
        "AccountAlias",
        "TxnLocationType",
    },
    "Term": {
        "Active",
        "DayOfMonthDue",
        "DiscountDayOfMonth",
        "DiscountDays",
        "DiscountPercent",
        "DueDays",
        "DueNextMonthDays",
        "Name",
        "Type",
    },
    "PaymentMethod": {"Active", "Name", "Type"},
    "TaxCode": {
        "Active",
        "Description",
        "Name",
        "PurchaseTaxRateList",
        "SalesTaxRateList",
        "TaxGroup",
        "Taxable",
        "Hidden",
    },
    "TaxRate": {
        "Active",
        "AgencyRef",
        "Description",
        "DisplayType",
        "EffectiveTaxRate",
        "Name",
        "RateValue",
        "SpecialTaxType",
        "TaxReturnLineRef",
    },
    "Payment": {
        "ARAccountRef",
        "CreditCardPayment",
        "CurrencyRef",
        "CustomerRef",
        "DepositToAccountRef",
        "ExchangeRate",
        "Line",
        "PaymentMethodRef",
        "PaymentRefNum",
        "PrivateNote",
        "TaxExemptionRef",
        "TotalAmt",
        "TransactionLocationType",
        "TxnDate",
        "TxnSource",
        "TxnStatus",
        "UnappliedAmt",
        "ProcessPayment",
        "LinkedTxn",
        "ProjectRef",
    },
}

_SALES = {
    "AllowIPNPayment",
    "AllowOnlineACHPayment",
    "AllowOnlineCreditCardPayment",
    "AllowOnlinePayment",
    "ApplyTaxAfterDiscount",
    "Balance",
    "BillAddr",
    "BillEmail",
    "BillEmailBcc",
    "BillEmailCc",
    "CurrencyRef",
    "CustomField",
    "CustomerMemo",
    "CustomerRef",
    "DeliveryInfo",
    "DepartmentRef",
    "Deposit",
    "DepositToAccountRef",
    "DocNumber",
    "DueDate",
    "EInvoiceStatus",
    "EmailStatus",
    "ExchangeRate",
    "FreeFormAddress",
    "GlobalTaxCalculation",
    "HomeBalance",
    "HomeTotalAmt",
    "InvoiceLink",
    "Line",
    "LinkedTxn",
    "PrintStatus",
    "PrivateNote",
    "RecurDataRef",
    "SalesTermRef",
    "ShipAddr",
    "ShipDate",
    "ShipMethodRef",
    "TaxExemptionRef",
    "TotalAmt",
    "TrackingNum",
    "TxnDate",
    "TxnTaxDetail",
    "ClassRef",
    "PaymentMethodRef",
    "PaymentRefNum",
    "PaymentType",
    "CheckPayment",
    "CreditCardPayment",
    "TxnSource",
    "RemainingCredit",
    "ShipFromAddr",
    "AutoDocNumber",
    "ProjectRef",
    "TxnStatus",
    "AcceptedBy",
    "AcceptedDate",
    "ExpirationDate",
    "PONumber",
    "InvoiceEx",
    "TransactionLocationType",
    "HomeAmount",
    "CustomerTypeRef",
    "Tag",
    "TaxFormNum",
    "TaxFormType",
}
for _e in ("Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt", "Estimate"):
    KNOWN[_e] = set(_SALES)
KNOWN["Preferences"] = {
    "AccountingInfoPrefs",
    "CurrencyPrefs",
    "EmailMessagesPrefs",
    "OtherPrefs",
    "ProductAndServicesPrefs",
    "ReportPrefs",
    "SalesFormsPrefs",
    "TaxPrefs",
    "TimeTrackingPrefs",
    "VendorAndPurchasesPrefs",
    "ClassTrackingPerTxnLine",
}
KNOWN["CompanyInfo"] = {
    "CompanyAddr",
    "CompanyName",
    "CompanyStartDate",
    "Country",
    "CustomerCommunicationAddr",
    "Email",
    "FiscalYearStartMonth",
    "LegalAddr",
    "LegalName",
    "PrimaryPhone",
    "SupportedLanguages",
    "WebAddr",
    "NameValue",
    "CustomerCommunicationEmailAddr",
}
KNOWN["Class"] = {"Active", "FullyQualifiedName", "Name", "ParentRef", "SubClass"}
KNOWN["Department"] = {"Active", "FullyQualifiedName", "Name", "ParentRef", "SubDepartment"}
KNOWN["TaxAgency"] = {
    "DisplayName",
    "TaxTrackedOnSales",
    "TaxTrackedOnPurchases",
    "TaxRegistrationNumber",
}
KNOWN["CompanyCurrency"] = {"Active", "Code", "Name", "CustomField"}
KNOWN["ExchangeRate"] = {
    "AsOfDate",
    "CustomField",
    "Rate",
    "SourceCurrencyCode",
    "TargetCurrencyCode",
}
KNOWN["Attachable"] = {
    "AttachableRef",
    "Category",
    "ContentType",
    "FileAccessUri",
    "FileName",
    "Note",
    "Size",
    "TempDownloadUri",
    "ThumbnailFileAccessUri",
    "ThumbnailTempDownloadUri",
}
for _k in KNOWN.values():
    _k |= COMMON

LIST_ENTITIES = {
    "Customer",
    "Item",
    "Account",
    "Vendor",
    "Term",
    "PaymentMethod",
    "TaxCode",
    "TaxRate",
    "Employee",
    "Class",
    "Department",
    "TaxAgency",
    "CompanyCurrency",
}
NAME_ENTITIES = {"Customer", "Vendor", "Employee"}  # DisplayName namespace
SALES_ENTITIES = {"Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt", "Estimate"}
TXN_ENTITIES = SALES_ENTITIES | {"Payment"}
NUMBERED = SALES_ENTITIES  # DocNumber sequence
WRITABLE_ENTITIES = (
    (LIST_ENTITIES - {"TaxCode", "TaxRate", "TaxAgency"})
    | TXN_ENTITIES
    | {"Preferences", "Attachable"}
)
ALL_ENTITIES = set(KNOWN)
# Intuit's CDC page: not supported for JournalCode, TaxAgency, TimeActivity, TaxCode, TaxRate
CDC_UNSUPPORTED = {"TaxCode", "TaxRate", "TaxAgency", "ExchangeRate"}
BY_LOWER = {e.lower(): e for e in ALL_ENTITIES}

# lower-case attribute name -> canonical spelling, for case-insensitive queries
CANON = {}
for _k in KNOWN.values():
    for _n in _k:
        CANON[_n.lower()] = _n
for _n in (
    "LastUpdatedTime",
    "CreateTime",
    "Address",
    "FreeFormNumber",
    "Line1",
    "City",
    "CountrySubDivisionCode",
    "PostalCode",
    "Country",
    "value",
    "name",
    "TxnId",
    "TxnType",
    "TotalTax",
    "Amount",
    "DetailType",
    "URI",
):
    CANON.setdefault(_n.lower(), _n)  # "Name" stays "Name"; query._get falls back by case


def resolve(name):
    return CANON.get(name.lower())


# ---------------------------------------------------------------- helpers


def _blank(v):
    return v is None or v in ("", [], {})


def clean(src, skip=()):
    """Drop read-only fields / blanks so the input can be merged."""
    return {k: v for k, v in src.items() if k not in skip and not _blank(v)}


def check_props(entity, payload):
    known = KNOWN[entity]
    for k in payload:
        if k not in known:
            raise faults.unknown_property(entity, k, known)


def _str(src, key, maxlen=None, element=None):
    v = src.get(key)
    if _blank(v):
        return None
    if not isinstance(v, str):
        v = str(v)
    if maxlen and len(v) > maxlen:
        raise faults.length_exceeds(element or key, maxlen, v)
    return v


def _bool(src, key, default=None):
    v = src.get(key)
    if v is None or v == "":
        return default
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    if isinstance(v, int):
        return bool(v)
    raise faults.QBOFault(
        2040, "Invalid Boolean", f"Invalid Boolean : {key}. Supplied value:{v}", key
    )


def _num(src, key, default=None):
    v = src.get(key)
    if v is None or v == "":
        return default
    try:
        return dec(v)
    except ValueError:
        raise faults.invalid_number(key, v) from None


def _date(src, key, default=None):
    v = src.get(key)
    if v is None or v == "":
        return default
    try:
        _dt.date.fromisoformat(str(v)[:10])
    except ValueError:
        raise faults.invalid_date(key, v) from None
    return str(v)[:10]


def _id(value, element):
    if isinstance(value, dict):
        value = value.get("value")
    if value is None or value == "":
        return None
    s = str(value).strip()
    if s.endswith(".0"):
        s = s[:-2]
    return s


def ref(realm, entity, src, key, required=False, must_be_active=True, element=None):
    """Resolve a reference {"value": id} → (obj, {"value","name"})."""
    raw = src.get(key)
    rid = _id(raw, key)
    if rid is None:
        if required:
            raise faults.required_missing(element or key)
        return None, None
    obj = realm.get(entity, rid)
    if obj is None or (must_be_active and obj.get("Active") is False):
        detail = None
        if obj is None:
            detail = (
                f"Object Not Found : Something you're trying to use has been made "
                f"inactive. Check the fields with accounts, customers, items, vendors or "
                f"employees. {key}={rid}"
            )
        raise faults.object_not_found(element or key, detail)
    name = obj.get("FullyQualifiedName") or obj.get("DisplayName") or obj.get("Name")
    r = {"value": obj["Id"]}
    if name:
        r["name"] = name
    return obj, r


def _email(src, key, maxlen):
    v = src.get(key)
    if _blank(v):
        return None
    if isinstance(v, str):
        v = {"Address": v}
    if not isinstance(v, dict):
        raise faults.request_parse(f"{key} must be an object")
    addr = v.get("Address")
    if _blank(addr):
        return None
    if len(addr) > maxlen:
        raise faults.length_exceeds(f"{key}.Address", maxlen, addr)
    return {"Address": addr}


def person_currency(realm, src):
    """A customer's / vendor's currency: any active company currency when multicurrency is on,
    else the home currency (anything else is refused)."""
    home_code = realm.home_currency()
    cur = _id(src.get("CurrencyRef"), "CurrencyRef") or home_code
    if cur != home_code:
        if not realm.pref.get("MultiCurrencyEnabled"):
            raise faults.business(
                f"Multicurrency is not turned on: the currency must be {home_code}.",
                "CurrencyRef",
            )
        if cur not in realm.currencies():
            raise faults.business(
                f"The currency {cur} is not in the company's currency list.", "CurrencyRef"
            )
    return currency_ref(cur)


def _copy(src, out, keys):
    for k in keys:
        v = src.get(k)
        if not _blank(v):
            out[k] = v


# ---------------------------------------------------------------- name lists


def norm_person(realm, entity, src, old):
    out = {}
    for k in (
        "Title",
        "GivenName",
        "MiddleName",
        "FamilyName",
        "Suffix",
        "CompanyName",
        "PrintOnCheckName",
        "Notes",
        "ResaleNum",
        "PrimaryTaxIdentifier",
        "AcctNum",
        "TaxIdentifier",
        "EmployeeNumber",
        "Gender",
        "SSN",
        "TaxReportingBasis",
    ):
        v = _str(src, k, 100 if k == "CompanyName" else (4000 if k == "Notes" else 100))
        if v is not None:
            out[k] = v
    if entity == "Customer" and out.get("GivenName") and len(out["GivenName"]) > 100:
        raise faults.length_exceeds("GivenName", 100, out["GivenName"])
    display = _str(src, "DisplayName", 500)
    if display is None:
        parts = [
            out.get(k)
            for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
            if out.get(k)
        ]
        display = " ".join(parts) or out.get("CompanyName")
    if not display:
        raise faults.required_missing(
            "DisplayName",
            "Required parameter Name is missing in the request. You must "
            "supply at least one of: DisplayName, Title, GivenName, MiddleName, FamilyName, "
            "Suffix, CompanyName",
        )
    display = display.strip()
    if ":" in display:
        raise faults.QBOFault(
            6000,
            "A business validation error has occurred while processing your request",
            "Business Validation Error: The name can't contain a colon (:).",
            "DisplayName",
        )
    out["DisplayName"] = display
    out.setdefault("PrintOnCheckName", display)
    out["Active"] = _bool(src, "Active", True)
    for k in ("PrimaryEmailAddr",):
        e = _email(src, k, 100)
        if e:
            out[k] = e
    if entity == "Employee":
        e = _email(src, "EmailAddress", 100) if isinstance(src.get("EmailAddress"), dict) else None
        if e:
            out["PrimaryEmailAddr"] = e
    _copy(
        src,
        out,
        (
            "PrimaryPhone",
            "AlternatePhone",
            "Mobile",
            "Fax",
            "WebAddr",
            "BillAddr",
            "ShipAddr",
            "PrimaryAddr",
            "OtherContactInfo",
            "BirthDate",
            "HiredDate",
            "ReleasedDate",
            "V4IDPseudonym",
            "Vendor1099",
            "BillableTime",
            "Organization",
            "BillRate",
            "CostRate",
        ),
    )
    if entity == "Customer":
        out["Taxable"] = _bool(src, "Taxable", True)
        out["Job"] = False
        out["BillWithParent"] = False
        out["Level"] = 0
        fqn = display
        parent, _pref = ref(realm, "Customer", src, "ParentRef", must_be_active=False)
        if parent is not None:
            if old is not None and parent["Id"] == old.get("Id"):
                raise faults.business("A customer can't be its own parent.", "ParentRef")
            out["ParentRef"] = {"value": parent["Id"]}
            out["Job"] = True
            out["BillWithParent"] = _bool(src, "BillWithParent", False)
            out["Level"] = parent.get("Level", 0) + 1
            fqn = parent["FullyQualifiedName"] + ":" + display
        out["FullyQualifiedName"] = fqn
        pdm = src.get("PreferredDeliveryMethod") or "Print"
        if pdm not in ("Print", "Email", "None"):
            raise faults.QBOFault(
                2040,
                "Invalid Enumeration",
                f"Invalid Enumeration : PreferredDeliveryMethod. Supplied value:{pdm}",
                "PreferredDeliveryMethod",
            )
        out["PreferredDeliveryMethod"] = pdm
        out["CurrencyRef"] = person_currency(realm, src)
        _, t = ref(realm, "Term", src, "SalesTermRef")
        if t:
            out["SalesTermRef"] = {"value": t["value"]}
        _, pm = ref(realm, "PaymentMethod", src, "PaymentMethodRef")
        if pm:
            out["PaymentMethodRef"] = {"value": pm["value"]}
        _copy(src, out, ("DefaultTaxCodeRef", "CustomerTypeRef", "ARAccountRef", "IsProject"))
        out["Balance"] = old.get("Balance", ZERO) if old else ZERO
        out["BalanceWithJobs"] = old.get("BalanceWithJobs", ZERO) if old else ZERO
    elif entity == "Vendor":
        out["Vendor1099"] = _bool(src, "Vendor1099", False)
        out["CurrencyRef"] = person_currency(realm, src)
        out["Balance"] = old.get("Balance", ZERO) if old else ZERO
    elif not out.get("GivenName") and not out.get("FamilyName"):
        raise faults.required_missing("GivenName")
    return out


ACCOUNT_CLASS = {
    "Income": ("Revenue", "SalesOfProductIncome"),
    "Other Income": ("Revenue", "OtherMiscellaneousIncome"),
    "Bank": ("Asset", "Checking"),
    "Accounts Receivable": ("Asset", "AccountsReceivable"),
    "Other Current Asset": ("Asset", "UndepositedFunds"),
    "Fixed Asset": ("Asset", "OtherFixedAssets"),
    "Other Asset": ("Asset", "OtherLongTermAssets"),
    "Expense": ("Expense", "OtherMiscellaneousServiceCost"),
    "Other Expense": ("Expense", "OtherMiscellaneousExpense"),
    "Cost of Goods Sold": ("Expense", "SuppliesMaterialsCogs"),
    "Accounts Payable": ("Liability", "AccountsPayable"),
    "Credit Card": ("Liability", "CreditCard"),
    "Other Current Liability": ("Liability", "OtherCurrentLiabilities"),
    "Long Term Liability": ("Liability", "OtherLongTermLiabilities"),
    "Equity": ("Equity", "OpeningBalanceEquity"),
}


def norm_account(realm, entity, src, old):
    name = _str(src, "Name", 100)
    if not name:
        raise faults.required_missing("Name")
    if ":" in name or '"' in name:
        raise faults.business("The account name can't contain a colon or quotes.", "Name")
    at = src.get("AccountType")
    if _blank(at):
        if _blank(src.get("AccountSubType")):
            raise faults.required_missing("AccountType")
        at = "Expense"
    if at not in ACCOUNT_CLASS:
        raise faults.QBOFault(
            2040,
            "Invalid Enumeration",
            f"Invalid Enumeration : AccountType. Supplied value:{at}",
            "AccountType",
        )
    cls, sub = ACCOUNT_CLASS[at]
    out = {
        "Name": name,
        "SubAccount": False,
        "FullyQualifiedName": name,
        "Active": _bool(src, "Active", True),
        "Classification": cls,
        "AccountType": at,
        "AccountSubType": src.get("AccountSubType") or sub,
        "CurrentBalance": old.get("CurrentBalance", ZERO) if old else ZERO,
        "CurrentBalanceWithSubAccounts": old.get("CurrentBalance", ZERO) if old else ZERO,
        "CurrencyRef": currency_ref(realm.home_currency()),
    }
    _copy(src, out, ("Description", "AcctNum", "TaxCodeRef"))
    parent, _ = ref(realm, "Account", src, "ParentRef")
    if parent is not None:
        out["SubAccount"] = True
        out["ParentRef"] = {"value": parent["Id"]}
        out["FullyQualifiedName"] = parent["FullyQualifiedName"] + ":" + name
    return out


ITEM_TYPES = ("Service", "NonInventory", "Inventory", "Group", "Category", "Other Charge")


def norm_item(realm, entity, src, old):
    name = _str(src, "Name", 100)
    if not name:
        raise faults.required_missing("Name")
    if ":" in name:
        raise faults.business("The name can't contain a colon (:).", "Name")
    typ = src.get("Type") or "Service"
    if typ not in ITEM_TYPES:
        raise faults.QBOFault(
            2040, "Invalid Enumeration", f"Invalid Enumeration : Type. Supplied value:{typ}", "Type"
        )
    out = {
        "Name": name,
        "Active": _bool(src, "Active", True),
        "Type": typ,
        "FullyQualifiedName": name,
        "SubItem": False,
    }
    sku = _str(src, "Sku", 100)
    if sku:
        out["Sku"] = sku
    desc = _str(src, "Description", 4000)
    if desc:
        out["Description"] = desc
    parent, _ = ref(realm, "Item", src, "ParentRef")
    if parent is not None:
        out["SubItem"] = True
        out["ParentRef"] = {"value": parent["Id"], "name": parent["Name"]}
        out["FullyQualifiedName"] = parent["FullyQualifiedName"] + ":" + name
        out["Level"] = parent.get("Level", 0) + 1
    if typ == "Category":
        return out
    out["Taxable"] = _bool(src, "Taxable", False)
    if typ == "Group":
        comps = ((src.get("ItemGroupDetail") or {}).get("ItemGroupLine")) or []
        lines = []
        for c in comps:
            it, _r = ref(
                realm,
                "Item",
                c,
                "ItemRef",
                required=True,
                element="ItemGroupDetail.ItemGroupLine.ItemRef",
            )
            if it.get("Type") in ("Group", "Category"):
                raise faults.business(
                    "A bundle can't contain another bundle or a category.", "ItemGroupLine"
                )
            lines.append(
                {
                    "ItemRef": {"value": it["Id"], "name": it["Name"], "type": "Item"},
                    "Qty": _num(c, "Qty", Decimal(1)),
                }
            )
        out["ItemGroupDetail"] = {"ItemGroupLine": lines}
        out["PrintGroupedItems"] = _bool(src, "PrintGroupedItems", False)
        return out
    out["UnitPrice"] = _num(src, "UnitPrice", ZERO)
    out["PurchaseCost"] = _num(src, "PurchaseCost", ZERO)
    if src.get("PurchaseDesc"):
        out["PurchaseDesc"] = src["PurchaseDesc"]
    _inc, iref = ref(realm, "Account", src, "IncomeAccountRef")
    if iref:
        out["IncomeAccountRef"] = iref
    elif typ in ("Service", "Inventory"):
        raise faults.business(
            "You must select an income account for this type of item.", "IncomeAccountRef"
        )
    _, eref = ref(realm, "Account", src, "ExpenseAccountRef")
    if eref:
        out["ExpenseAccountRef"] = eref
    out["TrackQtyOnHand"] = typ == "Inventory"
    if typ == "Inventory":
        _, aref = ref(realm, "Account", src, "AssetAccountRef")
        if not aref:
            raise faults.business(
                "You must select an asset account for inventory items.", "AssetAccountRef"
            )
        out["AssetAccountRef"] = aref
        out["QtyOnHand"] = _num(src, "QtyOnHand", ZERO)
        out["InvStartDate"] = _date(src, "InvStartDate", realm.today())
    _copy(src, out, ("SalesTaxCodeRef", "PurchaseTaxCodeRef", "ClassRef", "ServiceType"))
    return out


def norm_term(realm, entity, src, old):
    name = _str(src, "Name", 31)
    if not name:
        raise faults.required_missing("Name")
    out = {
        "Name": name,
        "Active": _bool(src, "Active", True),
        "Type": src.get("Type") or "STANDARD",
    }
    for k in ("DueDays", "DiscountDays", "DayOfMonthDue", "DueNextMonthDays", "DiscountDayOfMonth"):
        v = _num(src, k)
        if v is not None:
            out[k] = int(v)
    dp = _num(src, "DiscountPercent")
    if dp is not None:
        out["DiscountPercent"] = dp
    if out["Type"] == "STANDARD":
        out.setdefault("DueDays", 0)
    return out


def norm_paymentmethod(realm, entity, src, old):
    name = _str(src, "Name", 31)
    if not name:
        raise faults.required_missing("Name")
    return {
        "Name": name,
        "Active": _bool(src, "Active", True),
        "Type": src.get("Type") or "NON_CREDIT_CARD",
    }


def norm_class(realm, entity, src, old):
    """Class and Department: Name, optional parent (SubClass / SubDepartment)."""
    name = _str(src, "Name", 100)
    if not name:
        raise faults.required_missing("Name")
    if ":" in name:
        raise faults.business("The name can't contain a colon (:).", "Name")
    sub = "SubClass" if entity == "Class" else "SubDepartment"
    out = {
        "Name": name,
        sub: False,
        "FullyQualifiedName": name,
        "Active": _bool(src, "Active", True),
    }
    parent, _ = ref(realm, entity, src, "ParentRef")
    if parent is not None:
        out[sub] = True
        out["ParentRef"] = {"value": parent["Id"]}
        out["FullyQualifiedName"] = parent["FullyQualifiedName"] + ":" + name
    return out


def norm_currency(realm, entity, src, old):
    """CompanyCurrency: a currency the company bills in (multicurrency on)."""
    if not realm.pref.get("MultiCurrencyEnabled"):
        raise faults.business("Multicurrency is not turned on for this company.", "Code")
    code = (_str(src, "Code", 3) or "").upper()
    if len(code) != 3 or not code.isalpha():
        raise faults.required_missing("Code")
    if code == realm.home_currency():
        raise faults.business("The home currency is already in the currency list.", "Code")
    if old is None and code in realm.currencies():
        raise faults.duplicate_name("currency")
    if old is not None and code != old.get("Code"):
        raise faults.business("A currency's Code can't be changed.", "Code")
    if old is None:
        realm.pref.setdefault("Currencies", []).append(code)
    return {
        "Code": code,
        "Name": src.get("Name") or CURRENCY_NAMES.get(code, code),
        "Active": _bool(src, "Active", True),
    }


def norm_attachable(realm, entity, src, old):
    refs = []
    for r in src.get("AttachableRef") or []:
        er = (r or {}).get("EntityRef") or {}
        ent = BY_LOWER.get(str(er.get("type", "")).lower())
        if ent is None or realm.get(ent, _id(er, "EntityRef") or "") is None:
            raise faults.object_not_found("AttachableRef.EntityRef")
        refs.append(
            {
                "EntityRef": {"type": ent, "value": _id(er, "EntityRef")},
                "IncludeOnSend": _bool(r, "IncludeOnSend", False),
            }
        )
    out = {"AttachableRef": refs}
    for k in ("FileName", "ContentType", "Note", "Category"):
        v = _str(src, k, 1000)
        if v:
            out[k] = v
    if not out.get("FileName") and not out.get("Note"):
        raise faults.required_missing("FileName")
    _copy(src, out, ("Size", "FileAccessUri", "TempDownloadUri"))
    return out


# ---------------------------------------------------------------- sales transactions

LINE_TYPES = (
    "SalesItemLineDetail",
    "GroupLineDetail",
    "DiscountLineDetail",
    "DescriptionOnly",
    "SubTotalLineDetail",
)


SHIPPING_ITEM = "SHIPPING_ITEM_ID"


def _line_code(realm, item, d):
    """The line's tax code: "TAX"/"NON" in the US, a TaxCode Id (or None) elsewhere."""
    tc = _id(d.get("TaxCodeRef"), "TaxCodeRef")
    if tax.is_us(realm):
        if tc is None:
            return "TAX" if (item or {}).get("Taxable") else "NON"
        if tc in ("TAX", "NON"):
            return tc
        code = realm.get("TaxCode", tc)
        if code is None:
            raise faults.object_not_found("TaxCodeRef")
        return "TAX" if code.get("Taxable") else "NON"
    if tc is None:
        tc = _id((item or {}).get("SalesTaxCodeRef"), "SalesTaxCodeRef")
    if tc is None:
        return None
    if tc in ("TAX", "NON") or realm.get("TaxCode", tc) is None:
        raise faults.object_not_found(
            "TaxCodeRef",
            f"Object Not Found : Something you're trying to use has been made inactive. "
            f"Check the fields with accounts, customers, items, vendors or employees. "
            f"TaxCode {tc}",
        )
    return tc


def _line_class(realm, d, det):
    cref = d.get("ClassRef")
    if _blank(cref):
        return
    if not realm.pref.get("ClassTrackingPerTxnLine"):
        return  # QBO drops a line class when the company does not track classes per line
    _, r = ref(realm, "Class", d, "ClassRef", element="Line.SalesItemLineDetail.ClassRef")
    det["ClassRef"] = r


def _sales_item(realm, ln, d, check=True):
    """Compute one SalesItemLineDetail line; returns (line, amount, tax code)."""
    if _id(d.get("ItemRef"), "ItemRef") == SHIPPING_ITEM:
        if not realm.pref.get("AllowShipping"):
            raise faults.object_not_found(
                "Line.SalesItemLineDetail.ItemRef",
                "Object Not Found : Shipping is not turned on for this company "
                "(SalesFormsPrefs.AllowShipping). ItemRef=SHIPPING_ITEM_ID",
            )
        item, iref = {"Taxable": realm.pref.get("ShippingTaxable", False)}, {"value": SHIPPING_ITEM}
    else:
        item, iref = ref(
            realm, "Item", d, "ItemRef", required=True, element="Line.SalesItemLineDetail.ItemRef"
        )
    if item.get("Type") in ("Group", "Category"):
        raise faults.business(
            f"The item {item['Name']} can't be used on a sales line (type {item['Type']}).",
            "ItemRef",
        )
    qty = _num(d, "Qty")
    price = _num(d, "UnitPrice")
    if price is not None:
        price = tax.price7(price)
    amount = _num(ln, "Amount")
    if amount is not None and amount != 0 and not qty and not price:
        qty = price = None  # python-quickbooks sends Qty 0 / UnitPrice 0 by default
    if amount is None:
        if price is None:
            price = item.get("UnitPrice") or ZERO
        if qty is None:
            qty = Decimal(1)
        amount = money(qty * price)
    else:
        amount = money(amount)
        if (
            check
            and qty is not None
            and price is not None
            and abs(money(qty * price) - amount) > Decimal("0.01")
        ):
            raise faults.QBOFault(
                6070,
                "A business validation error has occurred while processing your request",
                "Business Validation Error: Amount is not equal to UnitPrice * Qty. "
                f"Supplied value:{amount}",
                "Amount",
            )
    det = {"ItemRef": iref}
    if price is not None:
        det["UnitPrice"] = price
    if qty is not None:
        det["Qty"] = qty
    if item.get("IncomeAccountRef"):
        det["ItemAccountRef"] = item["IncomeAccountRef"]
    code = _line_code(realm, item, d)
    if code is not None:
        det["TaxCodeRef"] = {"value": code}
    sd = _date(d, "ServiceDate")
    if sd:
        det["ServiceDate"] = sd
    _line_class(realm, d, det)
    _copy(d, det, ("DiscountRate", "DiscountAmt", "MarkupInfo"))
    tia = _num(d, "TaxInclusiveAmt")
    if tia is not None and not tax.is_us(realm):
        det["TaxInclusiveAmt"] = money(tia)  # the gross, as sent (or echoed back)
    out = {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": det}
    desc = ln.get("Description")
    if desc is None or desc == "":
        desc = item.get("Description")
    if desc:
        out["Description"] = desc
    return out, amount, code


def compute_lines(realm, lines_in, check=True):
    """Return (lines, items, groups, discounts): items = [(line, amount, code)] of every item
    line (bundle children included), groups = [(group line, its children items)]."""
    if not isinstance(lines_in, list):
        raise faults.request_parse("Line must be an array")
    out = []
    items = []
    groups = []
    discounts = []
    used_ids = set()
    for ln in lines_in:
        if not isinstance(ln, dict):
            raise faults.request_parse("Line entries must be objects")
        dt = ln.get("DetailType")
        if dt == "SubTotalLineDetail" or (dt is None and "SubTotalLineDetail" in ln):
            continue
        if dt is None:
            dt = next((t for t in LINE_TYPES if t in ln), None)
        if dt not in LINE_TYPES:
            raise faults.required_missing("Line.DetailType", f"Invalid line DetailType: {dt}")
        lid = _id(ln.get("Id"), "Line.Id")
        if dt == "SalesItemLineDetail":
            o, amt, code = _sales_item(realm, ln, ln.get("SalesItemLineDetail") or {}, check)
            items.append((o, amt, code))
        elif dt == "GroupLineDetail":
            g = ln.get("GroupLineDetail") or {}
            gitem, gref = ref(
                realm,
                "Item",
                g,
                "GroupItemRef",
                required=True,
                element="Line.GroupLineDetail.GroupItemRef",
            )
            if gitem.get("Type") != "Group":
                raise faults.business(f"Item {gitem['Name']} is not a bundle.", "GroupItemRef")
            gq = _num(g, "Quantity", Decimal(1))
            children_in = g.get("Line") or []
            children = []
            mine = []
            if not children_in:
                for comp in gitem.get("ItemGroupDetail", {}).get("ItemGroupLine", []):
                    citem = realm.get("Item", comp["ItemRef"]["value"])
                    price = (citem or {}).get("UnitPrice") or ZERO
                    children_in.append(
                        {
                            "DetailType": "SalesItemLineDetail",
                            "SalesItemLineDetail": {
                                "ItemRef": {"value": comp["ItemRef"]["value"]},
                                "Qty": comp["Qty"] * gq,
                                "UnitPrice": price,
                            },
                        }
                    )
            for c in children_in:
                if c.get("DetailType", "SalesItemLineDetail") != "SalesItemLineDetail":
                    raise faults.business(
                        "Bundle lines can only contain item lines.", "GroupLineDetail.Line"
                    )
                co, camt, code = _sales_item(realm, c, c.get("SalesItemLineDetail") or {}, check)
                cid = _id(c.get("Id"), "Line.Id")
                if cid:
                    co["Id"] = cid
                children.append(co)
                mine.append((co, camt, code))
            items += mine
            o = {
                "DetailType": "GroupLineDetail",
                "Amount": ZERO,
                "GroupLineDetail": {"GroupItemRef": gref, "Quantity": gq, "Line": children},
            }
            desc = ln.get("Description") or gitem.get("Description")
            if desc:
                o["Description"] = desc
            groups.append((o, mine))
        elif dt == "DiscountLineDetail":
            d = ln.get("DiscountLineDetail") or {}
            pb = _bool(d, "PercentBased", False)
            det = {"PercentBased": pb}
            if pb:
                det["DiscountPercent"] = _num(d, "DiscountPercent", ZERO)
            _copy(d, det, ("DiscountAccountRef",))
            o = {
                "DetailType": "DiscountLineDetail",
                "DiscountLineDetail": det,
                "Amount": money(_num(ln, "Amount", ZERO)),
            }
            discounts.append(o)
        else:  # DescriptionOnly
            o = {
                "DetailType": "DescriptionOnly",
                "DescriptionLineDetail": ln.get("DescriptionLineDetail") or {},
            }
            if ln.get("Description"):
                o["Description"] = ln["Description"]
            if ln.get("Amount") not in (None, ""):
                o["Amount"] = money(_num(ln, "Amount", ZERO))
        if lid and lid not in used_ids:
            o["Id"] = lid
            used_ids.add(lid)
        out.append(o)
    # ids and line numbers
    nxt = max([int(i) for i in used_ids if i.isdigit()] + [0]) + 1
    n = 0
    for o in out:
        n += 1
        if "Id" not in o:
            o["Id"] = str(nxt)
            nxt += 1
        o["LineNum"] = n
        for c in o.get("GroupLineDetail", {}).get("Line", []):
            if "Id" not in c:
                c["Id"] = str(nxt)
                nxt += 1
        # put Id first for readability
        o_id = o.pop("Id")
        items_ = list(o.items())
        o.clear()
        o["Id"] = o_id
        o.update(items_)
    return out, items, groups, discounts


def price_lines(realm, src, items, groups, discounts, cust, apply_after, gtc):
    """Amounts and tax of the lines: (subtotal, discount, tax, TxnTaxDetail)."""
    gross = None
    if gtc == "TaxInclusive" and not tax.is_us(realm):
        items, gross = tax.back_out(realm, items)
    subtotal = money(sum((a for _l, a, _c in items), ZERO))
    zero_groups = realm.pref.get("GroupLineAmount") == "zero"
    for g, mine in groups:
        g["Amount"] = ZERO if zero_groups else money(sum((c["Amount"] for c, *_ in mine), ZERO))
    discount = ZERO
    for o in discounts:
        det = o["DiscountLineDetail"]
        if det["PercentBased"]:
            o["Amount"] = money(subtotal * det["DiscountPercent"] / 100)
        discount += o["Amount"]
    discount = money(discount)
    if discount > subtotal:
        raise faults.business("The discount amount can't be greater than the subtotal.", "Line")
    ttd, total_tax = tax.compute(
        realm, src, items, subtotal, discount, cust, apply_after, gtc, gross=gross
    )
    return subtotal, discount, total_tax, ttd


def custom_fields(realm, src):
    prefs = realm.sales_custom_fields()  # {"1": name, ...} enabled only
    given = {}
    for cf in src.get("CustomField") or []:
        if isinstance(cf, dict) and cf.get("DefinitionId") is not None:
            sv = cf.get("StringValue")
            if not _blank(sv):
                if len(str(sv)) > 31:
                    raise faults.length_exceeds("CustomField.StringValue", 31, str(sv))
                given[str(cf["DefinitionId"])] = str(sv)
    out = []
    for did in sorted(prefs):
        f = {"DefinitionId": did, "Name": prefs[did], "Type": "StringType"}
        if did in given:
            f["StringValue"] = given[did]
        out.append(f)
    return out


def norm_sales(realm, entity, src, old, check=True):
    cust, cref = ref(
        realm,
        "Customer",
        src,
        "CustomerRef",
        required=entity not in {"SalesReceipt", "RefundReceipt"},
    )
    lines_in = src.get("Line")
    if _blank(lines_in):
        raise faults.required_missing("Line", "Required parameter Line is missing in the request")
    lines, items, groups, discounts = compute_lines(realm, lines_in, check)
    if (
        not any(ln["DetailType"] in ("SalesItemLineDetail", "GroupLineDetail") for ln in lines)
        and entity != "Estimate"
    ):
        raise faults.required_missing(
            "Line", "Required parameter Line.SalesItemLineDetail is missing in the request"
        )
    sent_after = _bool(src, "ApplyTaxAfterDiscount", None)
    apply_after = (
        sent_after if sent_after is not None else bool(realm.pref.get("TaxAfterDiscountDefault"))
    )
    gtc = None
    if not tax.is_us(realm):
        gtc = src.get("GlobalTaxCalculation") or realm.pref.get("GlobalTaxCalculation")
        gtc = gtc or "TaxExcluded"
        if gtc not in ("TaxExcluded", "TaxInclusive", "NotApplicable"):
            raise faults.QBOFault(
                2040,
                "Invalid Enumeration",
                f"Invalid Enumeration : GlobalTaxCalculation. Supplied value:{gtc}",
                "GlobalTaxCalculation",
            )
        if gtc != "NotApplicable":
            missing = [ln for ln, _a, c in items if c is None]
            if missing:
                raise faults.business(
                    "Make sure all your transactions have a tax rate before you save "
                    "(Line.SalesItemLineDetail.TaxCodeRef).",
                    "TaxCodeRef",
                )
    subtotal, discount, tax_amt, ttd = price_lines(
        realm, src, items, groups, discounts, cust, apply_after, gtc
    )
    total = money(subtotal - discount + tax_amt)
    lines.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    currency, rate = currency_of(realm, src, cust)
    out = {}
    if cref:
        out["CustomerRef"] = cref
    out["TxnDate"] = _date(src, "TxnDate") or realm.today()
    out["CurrencyRef"] = currency
    if rate is not None:
        out["ExchangeRate"] = rate
    dn = src.get("DocNumber")
    if not _blank(dn):
        dn = str(dn)
        if len(dn) > 21 and dn != "AUTO_GENERATE":
            raise faults.length_exceeds("DocNumber", 21, dn)
        out["DocNumber"] = dn
    out["CustomField"] = custom_fields(realm, src)
    for k in ("PrivateNote",):
        v = _str(src, k, 4000)
        if v:
            out[k] = v
    cm = src.get("CustomerMemo")
    if isinstance(cm, str) and cm:
        cm = {"value": cm}
    if isinstance(cm, dict) and cm.get("value"):
        if len(cm["value"]) > 1000:
            raise faults.length_exceeds("CustomerMemo", 1000, cm["value"])
        out["CustomerMemo"] = {"value": cm["value"]}
    out["Line"] = lines
    out["TxnTaxDetail"] = ttd
    for k, maxlen in (("BillEmail", 100), ("BillEmailCc", 200), ("BillEmailBcc", 200)):
        e = _email(src, k, maxlen)
        if e:
            out[k] = e
    _copy(
        src,
        out,
        (
            "BillAddr",
            "ShipAddr",
            "ShipFromAddr",
            "ShipMethodRef",
            "TrackingNum",
            "DeliveryInfo",
            "PaymentRefNum",
            "CheckPayment",
            "CreditCardPayment",
            "ProjectRef",
            "TxnSource",
            "PONumber",
        ),
    )
    sd = _date(src, "ShipDate")
    if sd:
        out["ShipDate"] = sd
    txn_refs(realm, src, out)
    if sent_after is not None:
        out["ApplyTaxAfterDiscount"] = sent_after  # echoed only when sent
    out["PrintStatus"] = src.get("PrintStatus") or "NotSet"
    if entity != "RefundReceipt":
        es = src.get("EmailStatus") or "NotSet"
        if es not in ("NotSet", "NeedToSend", "EmailSent"):
            raise faults.QBOFault(
                2040,
                "Invalid Enumeration",
                f"Invalid Enumeration : EmailStatus. Supplied value:{es}",
                "EmailStatus",
            )
        if es == "NeedToSend" and "BillEmail" not in out:
            raise faults.business(
                "Need to provide a BillEmail address when EmailStatus is NeedToSend.", "BillEmail"
            )
        out["EmailStatus"] = es
    out["TotalAmt"] = total
    out["HomeTotalAmt"] = home(total, rate)
    if entity == "Invoice":
        due = _date(src, "DueDate")
        term, tref = ref(realm, "Term", src, "SalesTermRef")
        if term is None and cust is not None and cust.get("SalesTermRef"):
            term = realm.get("Term", cust["SalesTermRef"]["value"])
            tref = {"value": term["Id"], "name": term["Name"]} if term else None
        if term is None:
            dt = realm.default_term()
            if dt is not None:
                term, tref = dt, {"value": dt["Id"], "name": dt["Name"]}
        if tref:
            out["SalesTermRef"] = tref
        if due is None:
            due = due_date(term, out["TxnDate"])
        out["DueDate"] = due
        out["Deposit"] = _num(src, "Deposit", ZERO)
        out["AllowIPNPayment"] = _bool(src, "AllowIPNPayment", False)
        out["AllowOnlinePayment"] = _bool(src, "AllowOnlinePayment", False)
        out["AllowOnlineCreditCardPayment"] = _bool(src, "AllowOnlineCreditCardPayment", False)
        out["AllowOnlineACHPayment"] = _bool(src, "AllowOnlineACHPayment", False)
        out["Balance"] = total  # store subtracts payments
        out["HomeBalance"] = home(total, rate)
        out["LinkedTxn"] = []
    elif entity == "CreditMemo":
        out["RemainingCredit"] = total
        out["Balance"] = total
        out["HomeBalance"] = home(total, rate)  # the remaining credit in the home currency
    elif entity in ("SalesReceipt", "RefundReceipt"):
        out["Balance"] = ZERO
        acct_name = "Undeposited Funds" if entity == "SalesReceipt" else "Checking"
        _, dref = ref(realm, "Account", src, "DepositToAccountRef")
        if dref is None:
            a = realm.account_by_name(acct_name)
            dref = {"value": a["Id"], "name": a["Name"]} if a else None
        if dref:
            out["DepositToAccountRef"] = dref
        _, pm = ref(realm, "PaymentMethod", src, "PaymentMethodRef")
        if pm:
            out["PaymentMethodRef"] = pm
    elif entity == "Estimate":
        out["TxnStatus"] = src.get("TxnStatus") or "Pending"
        ed = _date(src, "ExpirationDate")
        if ed:
            out["ExpirationDate"] = ed
    if gtc is not None:
        out["GlobalTaxCalculation"] = gtc
    return out


def due_date(term, txn_date):
    """STANDARD terms: TxnDate + DueDays; DATE_DRIVEN: DayOfMonthDue of this month, or of the
    next month when the TxnDate is within DueNextMonthDays of it."""
    d = _dt.date.fromisoformat(txn_date)
    if term is not None and term.get("Type") == "DATE_DRIVEN" and term.get("DayOfMonthDue"):
        import calendar

        dom = int(term["DayOfMonthDue"])
        y, m = d.year, d.month

        def on(y, m):
            return _dt.date(y, m, min(dom, calendar.monthrange(y, m)[1]))

        due = on(y, m)
        if due < d or (due - d).days < int(term.get("DueNextMonthDays") or 0):
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
            due = on(y, m)
        return due.isoformat()
    days = int(term.get("DueDays", 30)) if term else 30
    return (d + _dt.timedelta(days=days)).isoformat()


def home(amount, rate):
    """An amount in the home currency: ``amount x ExchangeRate`` half-up to the cent (the
    amount itself in a single-currency company)."""
    return money(amount * rate) if rate is not None else amount


RATE_PLACES = Decimal("0.000001")


def exchange_rate(value):
    """An ``ExchangeRate`` as QuickBooks keeps it: 6 decimals, half-up (FACTS.md, issue 18)."""
    return Decimal(value).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def currency_of(realm, src, cust, element="CurrencyRef"):
    """(CurrencyRef, ExchangeRate or None) of a transaction: the customer's currency; the rate
    as sent, else the company's rate for the TxnDate; None (no field) in the home currency."""
    home_code = realm.home_currency()
    cur = _id(src.get("CurrencyRef"), element)
    cust_cur = ((cust or {}).get("CurrencyRef") or {}).get("value") or home_code
    if cur is None:
        cur = cust_cur
    if not realm.pref.get("MultiCurrencyEnabled"):
        if cur != home_code:
            raise faults.business(
                f"Multicurrency is not turned on: the currency must be {home_code}.", element
            )
        return currency_ref(home_code), None
    if cust is not None and cur != cust_cur:
        raise faults.business(
            f"The transaction currency {cur} must be the customer's currency {cust_cur}.", element
        )
    if cur == home_code:
        return currency_ref(cur), Decimal(1)
    sent = _num(src, "ExchangeRate")
    if sent is not None and sent > 0:
        sent = exchange_rate(sent)
        if sent <= 0:
            raise faults.business("The exchange rate must be positive.", element)
        return currency_ref(cur), sent
    r = realm.exchange_rate(cur, _date(src, "TxnDate") or realm.today())
    if r is None:
        raise faults.business(f"No exchange rate for {cur}.", "ExchangeRate")
    return currency_ref(cur), exchange_rate(r)


CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "CAD": "Canadian Dollar",
    "GBP": "British Pound Sterling",
    "AUD": "Australian Dollar",
    "EUR": "Euro",
    "MXN": "Mexican Peso",
    "JPY": "Japanese Yen",
}


def currency_ref(code):
    return {"value": code, "name": CURRENCY_NAMES.get(code, code)}


def txn_refs(realm, src, out):
    """Transaction-level ClassRef (ClassTrackingPerTxn) and DepartmentRef (TrackDepartments)."""
    if not _blank(src.get("ClassRef")) and realm.pref.get("ClassTrackingPerTxn"):
        _, r = ref(realm, "Class", src, "ClassRef")
        out["ClassRef"] = r
    if not _blank(src.get("DepartmentRef")) and realm.pref.get("TrackDepartments"):
        _, r = ref(realm, "Department", src, "DepartmentRef")
        out["DepartmentRef"] = r


def norm_payment(realm, entity, src, old):
    cust, cref = ref(realm, "Customer", src, "CustomerRef", required=True)
    total = _num(src, "TotalAmt")
    if total is None:
        raise faults.required_missing("TotalAmt")
    total = money(total)
    if total < 0:
        raise faults.business("The payment amount can't be negative.", "TotalAmt")
    lines = []
    applied = ZERO
    for ln in src.get("Line") or []:
        amt = money(_num(ln, "Amount", ZERO))
        links = []
        for lt in ln.get("LinkedTxn") or []:
            tid = _id(lt.get("TxnId"), "TxnId")
            ttype = lt.get("TxnType") or "Invoice"
            if ttype not in ("Invoice", "CreditMemo", "JournalEntry"):
                raise faults.business(f"Unsupported LinkedTxn type {ttype}.", "LinkedTxn")
            if tid is None or not tid.isdigit():
                raise faults.invalid_id(tid, "Line.LinkedTxn.TxnId")
            txn = realm.get(ttype, tid)
            if txn is None:
                raise faults.object_not_found(
                    "Line.LinkedTxn.TxnId",
                    f"Object Not Found : Something you're trying to use has been made "
                    f"inactive. Check the fields with accounts, customers, items, vendors or "
                    f"employees. {ttype} {tid}",
                )
            tc = txn.get("CustomerRef", {}).get("value")
            if (
                tc != cust["Id"]
                and realm.get(
                    "Customer",
                    tc or "0",
                )
                is not None
                and realm.top_customer(tc) != realm.top_customer(cust["Id"])
            ):
                raise faults.business(
                    f"The {ttype} {tid} belongs to another customer.", "LinkedTxn"
                )
            cust_cur = (cust.get("CurrencyRef") or {}).get("value") or realm.home_currency()
            txn_cur = (txn.get("CurrencyRef") or {}).get("value") or realm.home_currency()
            if ttype != "JournalEntry" and txn_cur != cust_cur:
                raise faults.business(
                    f"The {ttype} {tid} is in {txn_cur}, the payment in {cust_cur}.", "LinkedTxn"
                )
            links.append({"TxnId": tid, "TxnType": ttype})
            applied += -amt if ttype == "CreditMemo" else amt
        if not links:
            continue
        line = {"Amount": amt, "LinkedTxn": links}
        txn0 = realm.get(links[0]["TxnType"], links[0]["TxnId"])
        line["LineEx"] = {
            "any": [
                _nv("txnId", links[0]["TxnId"]),
                _nv("txnOpenBalance", str(txn0.get("Balance", ZERO))),
                _nv("txnReferenceNumber", txn0.get("DocNumber", "")),
            ]
        }
        lines.append(line)
    if applied > total:
        raise faults.business(
            "The amount applied to the invoices can't be more than the payment amount.", "TotalAmt"
        )
    currency, rate = currency_of(realm, src, cust)
    out = {
        "CustomerRef": cref,
        "TxnDate": _date(src, "TxnDate") or realm.today(),
        "CurrencyRef": currency,
        "TotalAmt": total,
        "UnappliedAmt": money(total - applied),
        "ProcessPayment": False,
        "Line": lines,
    }
    if rate is not None:
        out["ExchangeRate"] = rate
    _, dref = ref(realm, "Account", src, "DepositToAccountRef")
    if dref is None:
        a = realm.account_by_name("Undeposited Funds")
        dref = {"value": a["Id"]} if a else None
    if dref:
        out["DepositToAccountRef"] = {"value": dref["value"]}
    _, pm = ref(realm, "PaymentMethod", src, "PaymentMethodRef")
    if pm:
        out["PaymentMethodRef"] = pm
    for k in ("PaymentRefNum", "PrivateNote"):
        v = _str(src, k, 21 if k == "PaymentRefNum" else 4000)
        if v:
            out[k] = v
    _copy(src, out, ("CreditCardPayment", "TxnSource", "ARAccountRef", "ProjectRef"))
    return out


def _nv(name, value):
    return {
        "name": "{http://schema.intuit.com/finance/v3}NameValue",
        "declaredType": "com.intuit.schema.finance.v3.NameValue",
        "scope": "javax.xml.bind.JAXBElement$GlobalScope",
        "value": {"Name": name, "Value": value},
        "nil": False,
        "globalScope": True,
        "typeSubstituted": False,
    }


NORMALIZERS = {
    "Customer": norm_person,
    "Vendor": norm_person,
    "Employee": norm_person,
    "Account": norm_account,
    "Item": norm_item,
    "Term": norm_term,
    "PaymentMethod": norm_paymentmethod,
    "Payment": norm_payment,
    "Class": norm_class,
    "Department": norm_class,
    "Attachable": norm_attachable,
    "CompanyCurrency": norm_currency,
}
for _e in SALES_ENTITIES:
    NORMALIZERS[_e] = norm_sales

# fields the server computes: dropped from the input before merging / normalizing
READONLY = {
    "Id",
    "SyncToken",
    "MetaData",
    "domain",
    "sparse",
    "status",
    "Balance",
    "BalanceWithJobs",
    "FullyQualifiedName",
    "Level",
    "TotalAmt",
    "HomeTotalAmt",
    "HomeBalance",
    "RemainingCredit",
    "UnappliedAmt",
    "CurrentBalance",
    "CurrentBalanceWithSubAccounts",
    "Job",
    "LinkedTxn",
    "Classification",
    "InvoiceLink",
    "SubItem",
}
READONLY_PER_ENTITY = {"Payment": READONLY - {"TotalAmt"}}


def input_fields(entity, payload):
    ro = READONLY_PER_ENTITY.get(entity, READONLY)
    if entity == "Customer":
        ro = ro - {"Job"}
    return {k: v for k, v in payload.items() if k not in ro}
