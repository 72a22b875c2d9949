"""Deterministic demo company and the bulk generator."""

from __future__ import annotations

import datetime as _dt
import random
from decimal import Decimal

from .util import ZERO

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


def base_company(realm, company_name, ctn=False):
    """What every new QBO company has: chart of accounts, tax, terms, methods, prefs."""
    accts = {}
    for name, typ, sub in ACCOUNTS:
        a = realm.create(
            "Account", {"Name": name, "AccountType": typ, "AccountSubType": sub}, emit=False
        )
        accts[name] = a
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
    terms = {}
    for name, days in TERMS:
        terms[name] = realm.create("Term", {"Name": name, "DueDays": days}, emit=False)
    for name, typ in PAYMENT_METHODS:
        realm.create("PaymentMethod", {"Name": name, "Type": typ}, emit=False)
    realm.pref["CustomTxnNumbers"] = ctn
    realm.pref["DefaultTermsId"] = terms["Net 30"]["Id"]
    realm.pref["DefaultTaxCodeId"] = code["Id"]
    realm.build_preferences()
    _raw(
        realm,
        "CompanyInfo",
        {
            "CompanyName": company_name,
            "LegalName": company_name + " LLC",
            "CompanyAddr": {
                "Id": "1",
                "Line1": "123 Sierra Way",
                "City": "San Pablo",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "87999",
                "Country": "USA",
            },
            "CustomerCommunicationAddr": {
                "Id": "1",
                "Line1": "123 Sierra Way",
                "City": "San Pablo",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "87999",
                "Country": "USA",
            },
            "LegalAddr": {
                "Id": "1",
                "Line1": "123 Sierra Way",
                "City": "San Pablo",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "87999",
                "Country": "USA",
            },
            "CustomerCommunicationEmailAddr": {"Address": "billing@geniedemo.example"},
            "PrimaryPhone": {"FreeFormNumber": "(650) 555-0100"},
            "CompanyStartDate": "2024-01-01",
            "FiscalYearStartMonth": "January",
            "Country": "US",
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
        oid = str(realm.next_id[entity])
        realm.next_id[entity] += 1
    obj = {"Id": oid, "SyncToken": "0", "domain": "QBO", "sparse": False, **obj}
    realm._touch(entity, obj, "Create", create=True, emit=False)
    return obj


def seed_demo(realm):
    ev = realm.events_enabled
    realm.events_enabled = False
    try:
        _seed_demo(realm)
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


def generate(
    realm,
    customers=0,
    items=0,
    invoices=0,
    payments=0,
    bundle_ratio=0.1,
    lines_per_invoice=3,
    seed=1,
):
    """Bulk data, fast (no webhooks, light validation)."""
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
        open_invs = list(inv_ids) or [
            o["Id"] for o in realm.objects("Invoice") if o.get("Balance", 0) > 0
        ]
        rng.shuffle(open_invs)
        for i in range(payments):
            if i < len(open_invs):
                inv = realm.get("Invoice", open_invs[i])
                if inv["Balance"] <= 0:
                    continue
                amt = (
                    inv["Balance"]
                    if rng.random() < 0.8
                    else (inv["Balance"] / 2).quantize(Decimal("0.01"))
                )
                realm.create(
                    "Payment",
                    {
                        "CustomerRef": inv["CustomerRef"],
                        "TotalAmt": amt,
                        "TxnDate": inv["TxnDate"],
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
        realm.reindex()
        return created
    finally:
        realm.events_enabled = ev
