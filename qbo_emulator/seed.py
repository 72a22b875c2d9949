"""Deterministic demo company and the bulk generator."""

from __future__ import annotations

import datetime as _dt
import random
from decimal import Decimal

from . import entities as E
from . import tax as T
from .util import ZERO, money

DEMO_COMPANY = "Genie Demo Company"

ACCOUNTS = [
    ("Services", "Income", "ServiceFeeIncome"),
    ("Sales of Product Income", "Income", "SalesOfProductIncome"),
    ("Late Fee Income", "Income", "OtherPrimaryIncome"),
    ("Other Income", "Other Income", "OtherMiscellaneousIncome"),
    ("Checking", "Bank", "Checking"),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
    ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
    ("Inventory Asset", "Other Current Asset", "Inventory"),
    ("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
    ("Office Expenses", "Expense", "OfficeGeneralAdministrativeExpenses"),
    ("Discounts given", "Income", "DiscountsRefundsGiven"),
]

TERMS = [("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30), ("Net 60", 60)]
PAYMENT_METHODS = [
    ("Cash", "NON_CREDIT_CARD"),
    ("Check", "NON_CREDIT_CARD"),
    ("Visa", "CREDIT_CARD"),
    ("MasterCard", "CREDIT_CARD"),
    ("American Express", "CREDIT_CARD"),
    ("ACH", "NON_CREDIT_CARD"),
]

# (name, type, price, income account, taxable, description)
ITEMS = [
    ("Services", "Service", "100", "Services", False, "Professional services"),
    ("Consulting Hours", "Service", "150", "Services", False, "Consulting, per hour"),
    ("Installation", "Service", "75", "Services", False, "Installation of landscape design"),
    ("Design", "Service", "90", "Services", False, "Custom design"),
    ("Gardening", "Service", "40", "Services", False, "Weekly gardening service"),
    ("Pest Control", "Service", "35", "Services", False, "Pest control service"),
    ("Hardware Kit", "NonInventory", "25.50", "Sales of Product Income", True, "Assorted hardware"),
    ("Sprinkler Heads", "Inventory", "2.75", "Sales of Product Income", True, "Sprinkler heads"),
    ("Pump", "Inventory", "15", "Sales of Product Income", True, "Fountain pump"),
    ("Rock Fountain", "Inventory", "275", "Sales of Product Income", True, "Rock fountain"),
    ("Late Fee", "Service", "25", "Late Fee Income", False, "Late payment fee"),
    ("Refund", "Service", "0", "Other Income", False, "Refund"),
    (
        "Technology Fee (Dual Pricing)",
        "Service",
        "0",
        "Other Income",
        False,
        "Technology fee - dual pricing",
    ),
    (
        "Technology Fee (Surcharge)",
        "Service",
        "0",
        "Other Income",
        False,
        "Technology fee - card surcharge",
    ),
    ("PO Number", "NonInventory", "0", None, False, "Purchase order reference"),
    ("Landscaping", "Category", None, None, False, None),
    ("Maintenance Plan", "Service", "199", "Services", False, "Monthly maintenance plan"),
]
GROUPS = [
    ("Sprinkler System Bundle", [("Sprinkler Heads", 10), ("Pump", 1), ("Installation", 2)]),
    ("Garden Starter Bundle", [("Gardening", 2), ("Hardware Kit", 1)]),
    ("Consulting Package", [("Consulting Hours", 5), ("Design", 1)]),
]

# (display, given, family, company, email, parent, active)
CUSTOMERS = [
    (
        "Amy's Bird Sanctuary",
        "Amy",
        "Lauterbach",
        "Amy's Bird Sanctuary",
        "Birds@Intuit.com",
        None,
        True,
    ),
    (
        "Bill's Windsurf Shop",
        "Bill",
        "Lucchini",
        "Bill's Windsurf Shop",
        "Surf@Intuit.com",
        None,
        True,
    ),
    ("Cool Cars", "Grace", "Pariente", "Cool Cars", "Cool_Cars@intuit.com", None, True),
    ("Diego Rodriguez", "Diego", "Rodriguez", None, "Diego@Rodriguez.com", None, True),
    (
        "Dukes Basketball Camp",
        "Peter",
        "Dukes",
        "Dukes Basketball Camp",
        "Dukes_bball@intuit.com",
        None,
        True,
    ),
    ("Dylan Sollfrank", "Dylan", "Sollfrank", None, None, None, True),
    (
        "Freeman Sporting Goods",
        "Kirby",
        "Freeman",
        "Freeman Sporting Goods",
        "Sporting_goods@intuit.com",
        None,
        True,
    ),
    (
        "0969 Ocean View Road",
        "Sasha",
        "Tillou",
        "Freeman Sporting Goods",
        "Sporting_goods@intuit.com",
        "Freeman Sporting Goods",
        True,
    ),
    (
        "55 Twin Lane",
        "Amelia",
        "",
        "Freeman Sporting Goods",
        "Sporting_goods@intuit.com",
        "Freeman Sporting Goods",
        True,
    ),
    ("Geeta Kalapatapu", "Geeta", "Kalapatapu", None, "Geeta@Kalapatapu.com", None, True),
    (
        "Gevelber Photography",
        "Lisa",
        "Gevelber",
        "Gevelber Photography",
        "Photography@intuit.com",
        None,
        True,
    ),
    ("Jeff's Jalopies", "Jeff", "Chin", "Jeff's Jalopies", "Jalopies@intuit.com", None, True),
    ("John Melton", "John", "Melton", None, "John@Melton.com", None, True),
    ("Kate Whelan", "Kate", "Whelan", None, "Kate@Whelan.com", None, True),
    (
        "Kookies by Kathy",
        "Kathy",
        "Kuplis",
        "Kookies by Kathy",
        "qbwebsamplecompany@yahoo.com",
        None,
        True,
    ),
    ("Mark Cho", "Mark", "Cho", None, "Mark@Cho.com", None, True),
    (
        "Paulsen Medical Supplies",
        "Kathy",
        "Paulsen",
        "Paulsen Medical Supplies",
        "Medical@intuit.com",
        None,
        True,
    ),
    ("Pye's Cakes", "Karen", "Pye", "Pye's Cakes", "pyescakes@intuit.com", None, True),
    (
        "Rago Travel Agency",
        "Nicola",
        "Rago",
        "Rago Travel Agency",
        "Rago_travel@intuit.com",
        None,
        True,
    ),
    (
        "Red Rock Diner",
        "Stephanie",
        "Martini",
        "Red Rock Diner",
        "qbwebsamplecompany@yahoo.com",
        None,
        True,
    ),
    (
        "Rondonuwu Fruit and Vegi",
        "Shara",
        "Rondonuwu",
        "Rondonuwu Fruit and Vegi",
        "Tony@Rondonuwu.com",
        None,
        True,
    ),
    ("Shara Barnett", "Shara", "Barnett", "Barnett Design", "Design@intuit.com", None, True),
    (
        "Barnett Design",
        "Shara",
        "Barnett",
        "Barnett Design",
        "Design@intuit.com",
        "Shara Barnett",
        True,
    ),
    (
        "Sonnenschein Family Store",
        "Russ",
        "Sonnenschein",
        "Sonnenschein Family Store",
        "Familiystore@intuit.com",
        None,
        True,
    ),
    ("Sushi by Katsuyuki", "Kat", "Yuki", "Sushi by Katsuyuki", "Sushi@intuit.com", None, True),
    ("Travis Waldron", "Travis", "Waldron", None, "Travis@Waldron.com", None, True),
    (
        "Video Games by Dan",
        "Dan",
        "Miller",
        "Video Games by Dan",
        "Videogames@intuit.com",
        None,
        True,
    ),
    (
        "Wedding Planning by Whitney",
        "Whitney",
        "Fulton",
        "Wedding Planning by Whitney",
        "Dream_Wedding@intuit.com",
        None,
        True,
    ),
    (
        "Weiskopf Consulting",
        "Nicola",
        "Weiskopf",
        "Weiskopf Consulting",
        "Consulting@intuit.com",
        None,
        True,
    ),
    (
        "Acme Landscaping LLC",
        "Wile",
        "Coyote",
        "Acme Landscaping LLC",
        "billing@acme-landscaping.example, ap@acme-landscaping.example",
        None,
        True,
    ),
    (
        "ACME Landscaping, L.L.C. (2)",
        "Road",
        "Runner",
        "ACME Landscaping, L.L.C.",
        "ap@acmelandscaping.example",
        None,
        True,
    ),
    ("Old Town Bakery", "Olga", "Town", "Old Town Bakery", "olga@oldtown.example", None, False),
    ("Test Customer", None, None, None, None, None, False),
]


def us_line_code(name):
    """The US pseudo tax codes TAX / NON that sales lines carry."""
    return {
        "Name": name,
        "Description": name,
        "Active": True,
        "Hidden": False,
        "Taxable": name == "TAX",
        "TaxGroup": False,
        "SalesTaxRateList": {"TaxRateDetail": []},
        "PurchaseTaxRateList": {"TaxRateDetail": []},
    }


def _us_demo_tax(realm):
    """The demo's California 8.25 % (code 2) and the TAX / NON line codes; AST picks code 2
    for every address (no other jurisdiction)."""
    _raw(
        realm,
        "TaxAgency",
        {
            "DisplayName": "California Department of Tax and Fee Administration",
            "TaxTrackedOnSales": True,
        },
    )
    rate = _raw(
        realm,
        "TaxRate",
        {
            "Name": "California State Tax 8.25%",
            "Description": "Sales Tax",
            "Active": True,
            "RateValue": Decimal("8.25"),
            "AgencyRef": {"value": "1"},
            "SpecialTaxType": "NONE",
            "DisplayType": "ReadOnly",
            "EffectiveTaxRate": [
                {"RateValue": Decimal("8.25"), "EffectiveDate": "2020-01-01T00:00:00-08:00"}
            ],
        },
    )
    _raw(
        realm,
        "TaxCode",
        {
            "Name": "TAX",
            "Description": "TAX",
            "Active": True,
            "Hidden": False,
            "Taxable": True,
            "TaxGroup": False,
            "SalesTaxRateList": {"TaxRateDetail": []},
            "PurchaseTaxRateList": {"TaxRateDetail": []},
        },
        oid="TAX",
    )
    _raw(
        realm,
        "TaxCode",
        {
            "Name": "NON",
            "Description": "NON",
            "Active": True,
            "Hidden": False,
            "Taxable": False,
            "TaxGroup": False,
            "SalesTaxRateList": {"TaxRateDetail": []},
            "PurchaseTaxRateList": {"TaxRateDetail": []},
        },
        oid="NON",
    )
    code = _raw(
        realm,
        "TaxCode",
        {
            "Name": "California",
            "Description": "California sales tax",
            "Active": True,
            "Hidden": False,
            "Taxable": True,
            "TaxGroup": True,
            "SalesTaxRateList": {
                "TaxRateDetail": [
                    {
                        "TaxRateRef": {"value": rate["Id"], "name": rate["Name"]},
                        "TaxTypeApplicable": "TaxOnAmount",
                        "TaxOrder": 0,
                    }
                ]
            },
            "PurchaseTaxRateList": {"TaxRateDetail": []},
        },
        oid="2",
    )
    realm.pref["DefaultTaxCodeId"] = code["Id"]


def base_company(realm, company_name, ctn=False, tax=True, addr=None, country="US"):
    """What every new QBO company has: chart of accounts, tax, terms, methods, prefs.

    ``tax=False`` leaves the tax tables to the caller (``companies.install_tax``)."""
    accts = {}
    for name, typ, sub in ACCOUNTS:
        a = realm.create(
            "Account", {"Name": name, "AccountType": typ, "AccountSubType": sub}, emit=False
        )
        accts[name] = a
    if tax:
        _us_demo_tax(realm)
    terms = {}
    for name, days in TERMS:
        terms[name] = realm.create("Term", {"Name": name, "DueDays": days}, emit=False)
    for name, typ in PAYMENT_METHODS:
        realm.create("PaymentMethod", {"Name": name, "Type": typ}, emit=False)
    realm.pref["CustomTxnNumbers"] = ctn
    realm.pref["DefaultTermsId"] = terms["Net 30"]["Id"]
    realm.build_preferences()
    line1, city, state, postal, ctry = addr or ("123 Sierra Way", "San Pablo", "CA", "87999", "USA")
    address = {"Id": "1", "Line1": line1, "City": city}
    if state:
        address["CountrySubDivisionCode"] = state
    address.update({"PostalCode": postal, "Country": ctry})
    _raw(
        realm,
        "CompanyInfo",
        {
            "CompanyName": company_name,
            "LegalName": company_name + " LLC",
            "CompanyAddr": dict(address),
            "CustomerCommunicationAddr": dict(address),
            "LegalAddr": dict(address),
            "CustomerCommunicationEmailAddr": {"Address": "billing@geniedemo.example"},
            "PrimaryPhone": {"FreeFormNumber": "(650) 555-0100"},
            "CompanyStartDate": "2024-01-01",
            "FiscalYearStartMonth": "January",
            "Country": country,
            "Email": {"Address": "billing@geniedemo.example"},
            "WebAddr": {"URI": "https://geniedemo.example"},
            "SupportedLanguages": "en",
            "NameValue": [
                {"Name": "NeoEnabled", "Value": "true"},
                {"Name": "IndustryType", "Value": "Landscaping Services"},
                {"Name": "CompanyType", "Value": "LLC"},
                {"Name": "SubscriptionStatus", "Value": "SUBSCRIBED"},
                {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
                {"Name": "PayrollFeature", "Value": "false"},
                {"Name": "AccountantFeature", "Value": "false"},
                {"Name": "ItemCategoriesFeature", "Value": "true"},
                {"Name": "IsQbdtMigrated", "Value": "false"},
            ],
        },
        oid="1",
    )
    return accts


def _raw(realm, entity, obj, oid=None):
    if oid is None:
        while str(realm.next_id[entity]) in realm.data[entity]:
            realm.next_id[entity] += 1
        oid = str(realm.next_id[entity])
        realm.next_id[entity] += 1
    obj = {"Id": oid, "SyncToken": "0", "domain": "QBO", "sparse": False, **obj}
    realm._touch(entity, obj, "Create", create=True, emit=False)
    return obj


def seed_demo(realm, tax_mix=False):
    """The demo company. ``tax_mix=True`` adds the tax documents of ``demo_tax_mix`` (a
    bundle taxed after a 20 % discount, an AST override on a base with a NON line, a shipping
    line, a payment of the override invoice): OFF by default until the addon handles them."""
    ev = realm.events_enabled
    realm.events_enabled = False
    try:
        _seed_demo(realm)
        if tax_mix:
            demo_tax_mix(realm)
    finally:
        realm.events_enabled = ev


def _seed_demo(realm):
    accts = base_company(realm, realm.company_name, ctn=True)
    realm.pref["custom"]["1"] = {"enabled": True, "name": "P.O. Number"}
    realm.pref["custom"]["2"] = {"enabled": False, "name": "Crew #"}
    realm.build_preferences()
    items = {}
    for name, typ, price, inc, taxable, desc in ITEMS:
        p = {"Name": name, "Type": typ}
        if desc:
            p["Description"] = desc
        if price is not None:
            p["UnitPrice"] = price
            p["Taxable"] = taxable
        if inc:
            p["IncomeAccountRef"] = {"value": accts[inc]["Id"]}
        if typ == "Inventory":
            p["AssetAccountRef"] = {"value": accts["Inventory Asset"]["Id"]}
            p["ExpenseAccountRef"] = {"value": accts["Cost of Goods Sold"]["Id"]}
            p["QtyOnHand"] = 100
            p["InvStartDate"] = "2024-01-01"
            p["Sku"] = "SKU-" + name.upper().replace(" ", "-")[:12]
        items[name] = realm.create("Item", p, emit=False)
    for name, comps in GROUPS:
        items[name] = realm.create(
            "Item",
            {
                "Name": name,
                "Type": "Group",
                "ItemGroupDetail": {
                    "ItemGroupLine": [
                        {"ItemRef": {"value": items[c]["Id"]}, "Qty": q} for c, q in comps
                    ]
                },
            },
            emit=False,
        )
    custs = {}
    rng = random.Random(20240601)
    for disp, given, family, company, email, parent, _active in CUSTOMERS:
        p = {"DisplayName": disp}
        if given:
            p["GivenName"] = given
        if family:
            p["FamilyName"] = family
        if company:
            p["CompanyName"] = company
        if email:
            p["PrimaryEmailAddr"] = {"Address": email}
            p["PreferredDeliveryMethod"] = "Email"
        p["PrimaryPhone"] = {"FreeFormNumber": f"(650) 555-{rng.randint(1000, 9999)}"}
        p["BillAddr"] = {
            "Line1": f"{rng.randint(10, 9999)} Main St",
            "City": "Middlefield",
            "CountrySubDivisionCode": "CA",
            "PostalCode": "94303",
            "Country": "USA",
        }
        if parent:
            p["ParentRef"] = {"value": custs[parent]["Id"]}
            p["Job"] = True
            p["BillWithParent"] = True
        c = realm.create("Customer", p, emit=False)
        custs[disp] = c
    for disp, *_rest, active in CUSTOMERS:
        if not active:
            c = realm.get("Customer", custs[disp]["Id"])
            realm.update(
                "Customer",
                {"Id": c["Id"], "SyncToken": c["SyncToken"], "sparse": True, "Active": False},
                emit=False,
            )
    active_custs = [realm.get("Customer", c["Id"]) for c in custs.values()]
    active_custs = [c for c in active_custs if c["Active"]]
    sellable = [
        items[n]
        for n in (
            "Services",
            "Consulting Hours",
            "Installation",
            "Design",
            "Gardening",
            "Pest Control",
            "Hardware Kit",
            "Sprinkler Heads",
            "Pump",
            "Rock Fountain",
            "Maintenance Plan",
        )
    ]
    groups = [items[g] for g, _ in GROUPS]
    today = _dt.date.fromisoformat(realm.today())
    invoices = []
    for i in range(60):
        cust = active_custs[i % len(active_custs)]
        lines = []
        for j in range(1 + i % 3):
            it = sellable[(i * 3 + j * 5) % len(sellable)]
            qty = 1 + (i + j) % 4
            lines.append(
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": str(Decimal(str(it["UnitPrice"])) * qty),
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": it["Id"]},
                        "Qty": qty,
                        "UnitPrice": it["UnitPrice"],
                        "TaxCodeRef": {"value": "TAX" if it.get("Taxable") else "NON"},
                    },
                }
            )
        if i % 7 == 3:
            g = groups[i % len(groups)]
            lines.append(
                {
                    "DetailType": "GroupLineDetail",
                    "GroupLineDetail": {"GroupItemRef": {"value": g["Id"]}, "Quantity": 1},
                }
            )
        if i == 5:
            lines.append(
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": "25",
                    "Description": "Late fee on overdue balance",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": items["Late Fee"]["Id"]},
                        "Qty": 1,
                        "UnitPrice": 25,
                    },
                }
            )
        if i % 9 == 4:
            lines.append(
                {
                    "DetailType": "DiscountLineDetail",
                    "DiscountLineDetail": {
                        "PercentBased": True,
                        "DiscountPercent": 10,
                        "DiscountAccountRef": {"value": accts["Discounts given"]["Id"]},
                    },
                }
            )
        txn_date = today - _dt.timedelta(days=120 - i * 2)
        inv = {
            "CustomerRef": {"value": cust["Id"]},
            "Line": lines,
            "DocNumber": str(1001 + i),
            "TxnDate": txn_date.isoformat(),
        }
        if cust.get("PrimaryEmailAddr") and i % 6 != 5:
            inv["BillEmail"] = {"Address": cust["PrimaryEmailAddr"]["Address"]}
            inv["EmailStatus"] = "EmailSent" if i % 2 else "NotSet"
            if i % 11 == 0:
                inv["BillEmailCc"] = {"Address": "accounting@geniedemo.example"}
        if i % 10 == 2:
            inv["CustomField"] = [
                {
                    "DefinitionId": "1",
                    "StringValue": f"PO-{4500 + i}",
                    "Type": "StringType",
                    "Name": "P.O. Number",
                }
            ]
        if i % 8 == 1:
            inv["CustomerMemo"] = {"value": "Thank you for your business!"}
        if i % 13 == 7:
            inv["SalesTermRef"] = {"value": "1"}
        invoices.append(realm.create("Invoice", inv, emit=False))
    # payments: full, partial, one unapplied
    pm = ["1", "2", "3", "6"]
    n = 0
    for idx in [*list(range(0, 40, 2)), 41, 43, 45, 47, 49]:
        inv = realm.get("Invoice", invoices[idx]["Id"])
        partial = idx in (41, 43, 45, 47, 49)
        amt = inv["Balance"] if not partial else (inv["Balance"] / 2).quantize(Decimal("0.01"))
        if amt <= 0:
            continue
        n += 1
        realm.create(
            "Payment",
            {
                "CustomerRef": {"value": inv["CustomerRef"]["value"]},
                "TotalAmt": str(amt),
                "TxnDate": inv["TxnDate"],
                "PaymentMethodRef": {"value": pm[n % len(pm)]},
                "PaymentRefNum": f"{7000 + n}",
                "Line": [
                    {"Amount": str(amt), "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}
                ],
            },
            emit=False,
        )
    realm.create(
        "Payment",
        {
            "CustomerRef": {"value": custs["Kate Whelan"]["Id"]},
            "TotalAmt": "500.00",
            "PaymentRefNum": "UNAPPLIED-1",
            "PaymentMethodRef": {"value": "2"},
            "Line": [],
        },
        emit=False,
    )
    realm.create(
        "CreditMemo",
        {
            "CustomerRef": {"value": custs["Cool Cars"]["Id"]},
            "DocNumber": "CM-1001",
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": "90",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": items["Design"]["Id"]},
                        "Qty": 1,
                        "UnitPrice": 90,
                    },
                }
            ],
        },
        emit=False,
    )
    realm.create(
        "RefundReceipt",
        {
            "CustomerRef": {"value": custs["Pye's Cakes"]["Id"]},
            "DocNumber": "RF-1001",
            "DepositToAccountRef": {"value": accts["Checking"]["Id"]},
            "PaymentMethodRef": {"value": "2"},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": "35",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": items["Refund"]["Id"]},
                        "Qty": 1,
                        "UnitPrice": 35,
                    },
                }
            ],
        },
        emit=False,
    )
    realm.create(
        "SalesReceipt",
        {
            "CustomerRef": {"value": custs["Red Rock Diner"]["Id"]},
            "DocNumber": "SR-1001",
            "PaymentMethodRef": {"value": "3"},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": "40",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": items["Gardening"]["Id"]},
                        "Qty": 1,
                        "UnitPrice": 40,
                    },
                }
            ],
        },
        emit=False,
    )
    # one voided invoice (an unpaid one)
    v = realm.get("Invoice", invoices[51]["Id"])
    realm.void("Invoice", {"Id": v["Id"], "SyncToken": v["SyncToken"]})
    realm.reindex()


def demo_tax_mix(realm):
    """Tax documents of real companies the addon must learn (issue 14), added to the demo:

    - a bundle with fractional unit prices (15 x 0.5306667) and a 20 % discount, taxed AFTER
      the discount with ApplyTaxAfterDiscount absent (the company default is turned to after);
    - an AST override: TxnTaxDetail.TotalTax 46.60 = 8 % of 582.50, a base that includes a
      NON line, and its payment of 629.10;
    - an invoice with a shipping line (SalesFormsPrefs.AllowShipping turned on).
    """
    from .companies import make_code

    realm.pref["TaxAfterDiscountDefault"] = True
    realm.pref["AllowShipping"] = True
    realm.build_preferences()
    rate = _raw(
        realm,
        "TaxRate",
        {
            "Name": "Local district 8%",
            "Description": "Sales Tax",
            "Active": True,
            "RateValue": Decimal("8"),
            "AgencyRef": {"value": "1"},
            "SpecialTaxType": "NONE",
            "DisplayType": "ReadOnly",
        },
    )
    code8 = make_code(realm, "Local district 8%", [(rate, "TaxOnAmount")])
    items = {i["Name"]: i["Id"] for i in realm.objects("Item")}
    custs = {c["DisplayName"]: c["Id"] for c in realm.objects("Customer")}

    def line(name, qty, price, code):
        return {
            "DetailType": "SalesItemLineDetail",
            "Amount": money(Decimal(str(qty)) * Decimal(str(price))),
            "SalesItemLineDetail": {
                "ItemRef": {"value": items[name]},
                "Qty": qty,
                "UnitPrice": price,
                "TaxCodeRef": {"value": code},
            },
        }

    realm.create(
        "Invoice",
        {
            "CustomerRef": {"value": custs["Geeta Kalapatapu"]},
            "DocNumber": "TAX-BUNDLE-1",
            "Line": [
                {
                    "DetailType": "GroupLineDetail",
                    "GroupLineDetail": {
                        "GroupItemRef": {"value": items["Sprinkler System Bundle"]},
                        "Quantity": 1,
                        "Line": [
                            line("Sprinkler Heads", 15, "0.5306667", "TAX"),
                            line("Pump", 1, "15", "TAX"),
                            line("Installation", 1, "24.5", "NON"),
                        ],
                    },
                },
                {
                    "DetailType": "DiscountLineDetail",
                    "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 20},
                },
            ],
        },
        emit=False,
    )
    override = realm.create(
        "Invoice",
        {
            "CustomerRef": {"value": custs["Jeff's Jalopies"]},
            "DocNumber": "TAX-OVERRIDE-1",
            "Line": [
                line("Rock Fountain", 1, "275", "TAX"),
                line("Installation", 3, "75", "NON"),
                line("Sprinkler Heads", 30, "2.75", "TAX"),
            ],
            "TxnTaxDetail": {"TxnTaxCodeRef": {"value": code8["Id"]}, "TotalTax": "46.60"},
        },
        emit=False,
    )
    realm.create(
        "Payment",
        {
            "CustomerRef": {"value": custs["Jeff's Jalopies"]},
            "TotalAmt": override["TotalAmt"],
            "PaymentRefNum": "OVR-629",
            "Line": [
                {
                    "Amount": override["TotalAmt"],
                    "LinkedTxn": [{"TxnId": override["Id"], "TxnType": "Invoice"}],
                }
            ],
        },
        emit=False,
    )
    realm.create(
        "Invoice",
        {
            "CustomerRef": {"value": custs["Mark Cho"]},
            "DocNumber": "TAX-SHIP-1",
            "Line": [
                line("Pump", 2, "15", "TAX"),
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": "12.50",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": E.SHIPPING_ITEM},
                        "TaxCodeRef": {"value": "NON"},
                    },
                },
            ],
        },
        emit=False,
    )
    realm.reindex()


def generate(
    realm,
    customers=0,
    items=0,
    invoices=0,
    payments=0,
    bundle_ratio=0.1,
    lines_per_invoice=3,
    seed=1,
    tax_mix=False,
    spread_days=0,
):
    """Bulk data, fast (no webhooks, light validation).

    ``tax_mix``: invoices mix what real companies send for the company's tax model (TAX/NON or
    per-line codes, percent and amount discounts taxed before and after, bundles with
    fractional unit prices, tax-inclusive prices, combined codes, shipping, AST overrides,
    foreign currencies) and a third of the payments are partial.
    ``spread_days``: MetaData CreateTime / LastUpdatedTime spread over that many past days
    (the TxnDates too) instead of all "now"."""
    rng = random.Random(seed)
    ev = realm.events_enabled
    realm.events_enabled = False
    try:
        inc = realm.account_by_name("Services") or next(
            (a for a in realm.objects("Account") if a.get("AccountType") == "Income"), None
        )
        created = {"customers": 0, "items": 0, "invoices": 0, "payments": 0}
        tag = f"{seed}-{rng.randint(1000, 9999)}"
        for i in range(customers):
            realm.create(
                "Customer",
                {
                    "DisplayName": f"Gen Customer {tag}-{i + 1}",
                    "GivenName": "Gen",
                    "FamilyName": f"C{i + 1}",
                    "CompanyName": f"Generated Co {i + 1}",
                    "PrimaryEmailAddr": {"Address": f"gen{i + 1}.{tag}@example.com"},
                },
                emit=False,
                check=False,
            )
            created["customers"] += 1
        for i in range(items):
            p = {
                "Name": f"Gen Item {tag}-{i + 1}",
                "Type": "Service",
                "UnitPrice": str(Decimal(rng.randint(500, 50000)) / 100),
            }
            if inc:
                p["IncomeAccountRef"] = {"value": inc["Id"]}
            realm.create("Item", p, emit=False, check=False)
            created["items"] += 1
        cust_ids = [c["Id"] for c in realm.objects("Customer") if c.get("Active")]
        item_objs = [
            it
            for it in realm.objects("Item")
            if it.get("Active") and it["Type"] in ("Service", "NonInventory", "Inventory")
        ]
        group_ids = [
            it["Id"] for it in realm.objects("Item") if it.get("Active") and it["Type"] == "Group"
        ]
        if invoices and (not cust_ids or not item_objs):
            raise ValueError("need customers and items to generate invoices")
        today = _dt.date.fromisoformat(realm.today())
        inv_ids = []
        ctn = realm.pref["CustomTxnNumbers"]
        for _ in range(invoices):
            if tax_mix:
                inv = _mix_invoice(realm, rng, cust_ids, item_objs, group_ids, today, spread_days)
                if ctn:
                    inv["DocNumber"] = "AUTO_GENERATE"
                o = realm.create("Invoice", inv, emit=False, check=True)
                inv_ids.append(o["Id"])
                created["invoices"] += 1
                continue
            lines = []
            for _ in range(max(1, lines_per_invoice)):
                it = item_objs[rng.randrange(len(item_objs))]
                qty = rng.randint(1, 5)
                price = it.get("UnitPrice") or ZERO
                lines.append(
                    {
                        "DetailType": "SalesItemLineDetail",
                        "Amount": price * qty,
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": it["Id"]},
                            "Qty": qty,
                            "UnitPrice": price,
                        },
                    }
                )
            if group_ids and rng.random() < bundle_ratio:
                lines.append(
                    {
                        "DetailType": "GroupLineDetail",
                        "GroupLineDetail": {
                            "GroupItemRef": {"value": group_ids[rng.randrange(len(group_ids))]},
                            "Quantity": 1,
                        },
                    }
                )
            inv = {
                "CustomerRef": {"value": cust_ids[rng.randrange(len(cust_ids))]},
                "Line": lines,
                "TxnDate": (today - _dt.timedelta(days=rng.randint(0, 365))).isoformat(),
            }
            if ctn:
                inv["DocNumber"] = "AUTO_GENERATE"
            o = realm.create("Invoice", inv, emit=False, check=False)
            inv_ids.append(o["Id"])
            created["invoices"] += 1
        if tax_mix:  # the other sales forms carry the same mix
            for ent in ("SalesReceipt", "CreditMemo"):
                for _ in range(invoices // 10):
                    doc = _mix_invoice(
                        realm, rng, cust_ids, item_objs, group_ids, today, spread_days
                    )
                    for k in ("AllowOnlineCreditCardPayment", "AllowOnlineACHPayment"):
                        doc.pop(k, None)
                    if ctn:
                        doc["DocNumber"] = "AUTO_GENERATE"
                    realm.create(ent, doc, emit=False)
                    created[ent] = created.get(ent, 0) + 1
        open_invs = list(inv_ids) or [
            o["Id"] for o in realm.objects("Invoice") if o.get("Balance", 0) > 0
        ]
        rng.shuffle(open_invs)
        for i in range(payments):
            if i < len(open_invs):
                inv = realm.get("Invoice", open_invs[i])
                if inv["Balance"] <= 0:
                    continue
                full = rng.random() < (0.66 if tax_mix else 0.8)
                amt = inv["Balance"] if full else (inv["Balance"] / 2).quantize(Decimal("0.01"))
                pay_date = inv["TxnDate"]
                if tax_mix:
                    d = _dt.date.fromisoformat(inv["TxnDate"]) + _dt.timedelta(rng.randint(0, 40))
                    pay_date = min(d, today).isoformat()
                realm.create(
                    "Payment",
                    {
                        "CustomerRef": inv["CustomerRef"],
                        "TotalAmt": amt,
                        "TxnDate": pay_date,
                        "Line": [
                            {
                                "Amount": amt,
                                "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}],
                            }
                        ],
                    },
                    emit=False,
                    check=False,
                )
            else:
                realm.create(
                    "Payment",
                    {
                        "CustomerRef": {"value": cust_ids[rng.randrange(len(cust_ids))]},
                        "TotalAmt": "100.00",
                        "Line": [],
                    },
                    emit=False,
                    check=False,
                )
            created["payments"] += 1
        if spread_days:
            _spread(realm, rng, spread_days)
        realm.reindex()
        return created
    finally:
        realm.events_enabled = ev


def _mix_invoice(realm, rng, cust_ids, item_objs, group_ids, today, spread_days):
    """One invoice payload of the realistic mix for the realm's tax model."""
    model = T.model(realm)
    codes = [
        c
        for c in realm.objects("TaxCode")
        if c["Id"] not in ("TAX", "NON") and c.get("Active") is not False
    ]
    cust = realm.get("Customer", cust_ids[rng.randrange(len(cust_ids))])
    days = spread_days or 365
    inv = {
        "CustomerRef": {"value": cust["Id"]},
        "TxnDate": (today - _dt.timedelta(days=rng.randint(0, days))).isoformat(),
    }

    def code_for(it):
        if model != "non_us":
            taxable = bool(it.get("Taxable"))
            return "TAX" if taxable != (rng.random() < 0.15) else "NON"
        main = [c for c in codes if c.get("SalesTaxRateList", {}).get("TaxRateDetail")]
        default = realm.default_tax_code()
        return default if rng.random() < 0.6 or not main else rng.choice(main)["Id"]

    lines = []
    for _ in range(rng.randint(1, 4)):
        it = item_objs[rng.randrange(len(item_objs))]
        price = it.get("UnitPrice") or Decimal("10")
        qty = Decimal(rng.choice([1, 1, 2, 3, 5, 12, 15]))
        if rng.random() < 0.1:
            qty = Decimal(rng.choice(["0.5", "1.25", "2.75"]))
        lines.append(
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": money(qty * price),
                "SalesItemLineDetail": {
                    "ItemRef": {"value": it["Id"]},
                    "Qty": qty,
                    "UnitPrice": price,
                    "TaxCodeRef": {"value": code_for(it)},
                },
            }
        )
    if group_ids and rng.random() < 0.2:
        g = realm.get("Item", group_ids[rng.randrange(len(group_ids))])
        children = []
        for comp in g["ItemGroupDetail"]["ItemGroupLine"]:
            c = realm.get("Item", comp["ItemRef"]["value"])
            # a bundle sold at a round price: QBO spreads it over fractional unit prices
            price = T.price7((c.get("UnitPrice") or ZERO) * Decimal(rng.choice(["1", "0.9"])))
            children.append(
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": money(comp["Qty"] * price),
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": c["Id"]},
                        "Qty": comp["Qty"],
                        "UnitPrice": price,
                        "TaxCodeRef": {"value": code_for(c)},
                    },
                }
            )
        lines.append(
            {
                "DetailType": "GroupLineDetail",
                "GroupLineDetail": {
                    "GroupItemRef": {"value": g["Id"]},
                    "Quantity": 1,
                    "Line": children,
                },
            }
        )
    if realm.pref.get("AllowShipping") and rng.random() < 0.15:
        ship = money(Decimal(rng.randint(500, 3500)) / 100)
        lines.append(
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": ship,
                "SalesItemLineDetail": {
                    "ItemRef": {"value": E.SHIPPING_ITEM},
                    "UnitPrice": ship,
                    "Qty": 1,
                    "TaxCodeRef": {
                        "value": ("TAX" if rng.random() < 0.5 else "NON")
                        if model != "non_us"
                        else realm.default_tax_code()
                    },
                },
            }
        )
    r = rng.random()
    if r < 0.2:
        lines.append(
            {
                "DetailType": "DiscountLineDetail",
                "DiscountLineDetail": {
                    "PercentBased": True,
                    "DiscountPercent": Decimal(rng.choice([5, 10, 15, 20])),
                },
            }
        )
    elif r < 0.3:
        amount = Decimal(rng.choice([5, 10, 25]))
        # QuickBooks refuses a discount greater than the subtotal (6000, FACTS.md): a
        # small document gets none (the net of tax-inclusive lines is below their sum).
        if amount * 2 <= _lines_sum(lines):
            lines.append(
                {
                    "DetailType": "DiscountLineDetail",
                    "Amount": amount,
                    "DiscountLineDetail": {"PercentBased": False},
                }
            )
    if r < 0.3:
        a = rng.random()
        if a < 0.35:
            inv["ApplyTaxAfterDiscount"] = True
        elif a < 0.7:
            inv["ApplyTaxAfterDiscount"] = False  # else absent: the company default
    inv["Line"] = lines
    if model == "non_us":
        g = rng.random()
        if g < 0.25:
            other = (
                "TaxExcluded"
                if realm.pref.get("GlobalTaxCalculation") == "TaxInclusive"
                else "TaxInclusive"
            )
            inv["GlobalTaxCalculation"] = other
        elif g < 0.28:
            inv["GlobalTaxCalculation"] = "NotApplicable"
    elif model == "us_manual":
        if codes and rng.random() < 0.5:
            inv["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": rng.choice(codes)["Id"]}}
    elif model == "us_ast" and codes and rng.random() < 0.1:
        # the override: TotalTax on a base of every line (NON ones too), at one code's rate
        code = rng.choice(codes)
        pct = T.effective_percent(realm, code)
        base = sum(
            (ln["Amount"] for ln in lines if ln["DetailType"] == "SalesItemLineDetail"), ZERO
        )
        inv["TxnTaxDetail"] = {
            "TxnTaxCodeRef": {"value": code["Id"]},
            "TotalTax": money(base * pct / 100),
        }
    if realm.pref.get("ClassTrackingPerTxnLine") and rng.random() < 0.3:
        classes = [c["Id"] for c in realm.objects("Class")]
        if classes:
            for ln in lines:
                if ln["DetailType"] == "SalesItemLineDetail":
                    ln["SalesItemLineDetail"]["ClassRef"] = {"value": rng.choice(classes)}
    if realm.pref.get("TrackDepartments") and rng.random() < 0.4:
        deps = [d["Id"] for d in realm.objects("Department")]
        if deps:
            inv["DepartmentRef"] = {"value": rng.choice(deps)}
    if cust.get("PrimaryEmailAddr"):
        inv["BillEmail"] = dict(cust["PrimaryEmailAddr"])
    if realm.pref.get("OnlinePayments") and rng.random() < 0.5:
        inv["AllowOnlineCreditCardPayment"] = True
        inv["AllowOnlineACHPayment"] = True
    return inv


def _lines_sum(lines):
    """The sum of the item lines (a bundle's components included)."""
    total = ZERO
    for ln in lines:
        if ln["DetailType"] == "SalesItemLineDetail":
            total += ln["Amount"]
        elif ln["DetailType"] == "GroupLineDetail":
            total += sum((c["Amount"] for c in ln["GroupLineDetail"]["Line"]), ZERO)
    return total


def _spread(realm, rng, days):
    """Backdate MetaData: a transaction was created on its TxnDate, updated a little later
    (its payments' dates included); list entities before the oldest transaction."""
    from .util import TZ

    now = realm.clock.time()
    oldest = now - days * 86400

    def ts_of(date):
        d = _dt.datetime.fromisoformat(date + "T09:00:00").replace(tzinfo=TZ)
        return d.timestamp() + rng.randint(0, 8 * 3600)

    stamps = {}
    for ent in ("Invoice", "Payment", "SalesReceipt", "CreditMemo", "RefundReceipt"):
        for o in realm.objects(ent):
            c = min(ts_of(o["TxnDate"]), now)
            stamps[(ent, o["Id"])] = [c, min(now, c + rng.randint(0, 3 * 86400))]
    for o in realm.objects("Payment"):
        pay = stamps[("Payment", o["Id"])]
        for ln in o.get("Line", []):
            for lt in ln.get("LinkedTxn", []):
                k = (lt["TxnType"], lt["TxnId"])
                if k in stamps:
                    stamps[k][1] = max(stamps[k][1], pay[1])
    for ent in ("Customer", "Item", "Class", "Department"):
        for o in realm.objects(ent):
            c = oldest - rng.randint(86400, 30 * 86400)
            stamps[(ent, o["Id"])] = [c, c + rng.randint(0, 86400)]
    from .store import _iso

    for (ent, oid), (c, u) in stamps.items():
        o = realm.get(ent, oid)
        o["MetaData"] = {"CreateTime": _iso(c), "LastUpdatedTime": _iso(u)}
        realm.mtime[ent][oid] = u
        realm.cache[ent].pop(oid, None)
