"""Companies per tax model (API_FACTS §8), as data: create one with ``seed_company(realm, kind)``
or ``POST /_emulator/realms {"seed": "<kind>"}``.

Kinds: ``us_ast`` (Automated Sales Tax, combined state + county/city codes chosen from the
address), ``us_manual`` (no AST: a transaction tax code), ``ca`` (GST, HST, GST+PST and GST+QST
groups, a tax-on-tax code), ``uk`` (VAT, tax-inclusive prices), ``au`` (GST, tax-inclusive),
``mc`` (a US AST company with multicurrency on: CAD, EUR, GBP customers and rates).
Each gets customers, items (fractional prices, a bundle), classes, locations, and a generated
mix of invoices and payments (``seed.generate(..., tax_mix=True)``).
"""

from __future__ import annotations

from decimal import Decimal

from . import seed as S

# agency, rate name, percent
# code name -> [(rate name, "TaxOnAmount"|"TaxOnTax")]; TaxGroup when more than one rate
COMPANIES = {
    "us_ast": {
        "name": "Sierra Outdoor Supply (AST)",
        "model": "us_ast",
        "country": "US",
        "currency": "USD",
        "addr": ("123 Sierra Way", "San Pablo", "CA", "94806", "USA"),
        "agencies": [
            "California Department of Tax and Fee Administration",
            "New York State",
            "Washington State Department of Revenue",
            "Texas Comptroller",
        ],
        "rates": [
            (0, "California State", "7.25"),
            (0, "Contra Costa County District", "1.5"),
            (0, "Alameda County District", "3.0"),
            (0, "San Francisco County District", "1.375"),
            (1, "New York State", "4.0"),
            (1, "New York City", "4.5"),
            (1, "Metropolitan Commuter Transportation District", "0.375"),
            (1, "Nassau County", "4.0"),
            (2, "Washington State", "6.5"),
            (2, "Seattle City", "3.85"),
            (3, "Texas State", "6.25"),
            (3, "Austin City", "1.0"),
            (3, "Austin MTA", "1.0"),
        ],
        "codes": [
            ("CA, Contra Costa County", ["California State", "Contra Costa County District"]),
            ("CA, Oakland", ["California State", "Alameda County District"]),
            ("CA, San Francisco", ["California State", "San Francisco County District"]),
            (
                "NY, New York City",
                [
                    "New York State",
                    "New York City",
                    "Metropolitan Commuter Transportation District",
                ],
            ),
            ("NY, Nassau County", ["New York State", "Nassau County"]),
            ("WA, Seattle", ["Washington State", "Seattle City"]),
            ("TX, Austin", ["Texas State", "Austin City", "Austin MTA"]),
        ],
        # AST: address -> code (STATE:city first, then STATE); the default is the company's
        "jurisdictions": {
            "CA:oakland": "CA, Oakland",
            "CA:san francisco": "CA, San Francisco",
            "CA": "CA, Contra Costa County",
            "NY:new york": "NY, New York City",
            "NY": "NY, Nassau County",
            "WA": "WA, Seattle",
            "TX": "TX, Austin",
        },
        "default_code": "CA, Contra Costa County",
        "customers": [
            ("Bay Trail Bikes", "Oakland", "CA", "94612"),
            ("Golden Gate Grocers", "San Francisco", "CA", "94103"),
            ("Diablo Hardware", "Walnut Creek", "CA", "94596"),
            ("Hudson Loft Studio", "New York", "NY", "10013"),
            ("Long Island Marine", "Garden City", "NY", "11530"),
            ("Pike Place Provisions", "Seattle", "WA", "98101"),
            ("Lone Star Landscaping", "Austin", "TX", "78701"),
            ("Reno Rock & Gravel", "Reno", "NV", "89501"),
            ("Oakland Food Bank (tax exempt)", "Oakland", "CA", "94607", None, False),
        ],
        "tax_after_discount": True,
    },
    "us_manual": {
        "name": "Prairie Tools (manual sales tax)",
        "model": "us_manual",
        "country": "US",
        "currency": "USD",
        "addr": ("800 Congress Ave", "Austin", "TX", "78701", "USA"),
        "agencies": ["Texas Comptroller", "Oklahoma Tax Commission"],
        "rates": [
            (0, "Texas State", "6.25"),
            (0, "Travis County", "2.0"),
            (0, "Harris County", "2.0"),
            (1, "Oklahoma State", "4.5"),
            (1, "Tulsa County", "0.367"),
            (1, "Local 8.5% county", "4.0"),
        ],
        "codes": [
            ("Travis County TX", ["Texas State", "Travis County"]),
            ("Harris County TX", ["Texas State", "Harris County"]),
            ("Tulsa County OK", ["Oklahoma State", "Tulsa County"]),
            ("Oklahoma 8.5%", ["Oklahoma State", "Local 8.5% county"]),
            ("Texas State only", ["Texas State"]),
        ],
        "default_code": "Travis County TX",
        "customers": [
            ("Capitol Catering", "Austin", "TX", "78701"),
            ("Bayou Builders", "Houston", "TX", "77002"),
            ("Route 66 Motors", "Tulsa", "OK", "74103"),
            ("Red Dirt Ranch", "Norman", "OK", "73069"),
            ("Hill Country Vineyards", "Fredericksburg", "TX", "78624"),
            ("Gulf Coast Charters", "Galveston", "TX", "77550"),
            ("Austin Public Library (tax exempt)", "Austin", "TX", "78701", None, False),
        ],
        "tax_after_discount": True,
    },
    "ca": {
        "name": "Maple Leaf Trading Ltd.",
        "model": "non_us",
        "country": "CA",
        "currency": "CAD",
        "addr": ("100 King St W", "Toronto", "ON", "M5X 1A9", "CAN"),
        "agencies": [
            "Canada Revenue Agency",
            "Ministry of Finance (BC)",
            "Revenu Québec",
            "Prince Edward Island (legacy)",
        ],
        "rates": [
            (0, "GST", "5"),
            (0, "HST ON", "13"),
            (0, "HST NS", "14"),
            (1, "PST BC", "7"),
            (2, "QST", "9.975"),
            (3, "PST PE (on GST)", "10"),
            (0, "GST/HST zero-rated", "0"),
            (0, "GST/HST exempt", "0"),
        ],
        "codes": [
            ("GST", ["GST"]),
            ("HST ON", ["HST ON"]),
            ("HST NS", ["HST NS"]),
            ("GST/PST BC", ["GST", "PST BC"]),
            ("GST/QST QC", ["GST", "QST"]),
            ("GST/PST PE (tax on tax)", ["GST", ("PST PE (on GST)", "TaxOnTax")]),
            ("Zero-rated", ["GST/HST zero-rated"]),
            ("Exempt", ["GST/HST exempt"]),
            ("Out of Scope", []),
        ],
        "default_code": "HST ON",
        "main_codes": ["HST ON", "GST/PST BC", "GST/QST QC", "GST", "Zero-rated", "Exempt"],
        "gtc": "TaxExcluded",
        "customers": [
            ("Rideau Canal Cafe", "Ottawa", "ON", "K1P 5G8"),
            ("Granville Island Goods", "Vancouver", "BC", "V6H 3S3"),
            ("Vieux-Port Boutique", "Montréal", "QC", "H2Y 1C6"),
            ("Halifax Harbour Supply", "Halifax", "NS", "B3J 1S9"),
            ("Charlottetown Crafts", "Charlottetown", "PE", "C1A 1N4"),
            ("Prairie Wheat Co-op", "Regina", "SK", "S4P 3Y2"),
        ],
        "tax_after_discount": True,
    },
    "uk": {
        "name": "Thames Valley Traders Ltd",
        "model": "non_us",
        "country": "GB",
        "currency": "GBP",
        "addr": ("1 Riverside Walk", "Reading", "", "RG1 8DB", "GBR"),
        "agencies": ["HM Revenue & Customs"],
        "rates": [
            (0, "20.0% S", "20"),
            (0, "5.0% R", "5"),
            (0, "0.0% Z", "0"),
            (0, "Exempt", "0"),
        ],
        "codes": [
            ("20.0% S", ["20.0% S"]),
            ("5.0% R", ["5.0% R"]),
            ("0.0% Z", ["0.0% Z"]),
            ("Exempt", ["Exempt"]),
            ("No VAT", []),
        ],
        "default_code": "20.0% S",
        "main_codes": ["20.0% S", "20.0% S", "5.0% R", "0.0% Z", "Exempt"],
        "gtc": "TaxInclusive",
        "customers": [
            ("Oxford Bookbinders", "Oxford", "", "OX1 3BG"),
            ("Bath Spa Botanicals", "Bath", "", "BA1 1LZ"),
            ("Camden Lock Coffee", "London", "", "NW1 8AF"),
            ("Cardiff Bay Chandlery", "Cardiff", "", "CF10 4PA"),
            ("Leeds Loom Works", "Leeds", "", "LS1 4DY"),
        ],
        "tax_after_discount": True,
    },
    "au": {
        "name": "Southern Cross Supplies Pty Ltd",
        "model": "non_us",
        "country": "AU",
        "currency": "AUD",
        "addr": ("1 Macquarie St", "Sydney", "NSW", "2000", "AUS"),
        "agencies": ["Australian Taxation Office"],
        "rates": [(0, "GST (sales)", "10"), (0, "GST free", "0"), (0, "Input taxed", "0")],
        "codes": [
            ("GST", ["GST (sales)"]),
            ("FRE", ["GST free"]),
            ("ITS", ["Input taxed"]),
            ("N-T", []),
        ],
        "default_code": "GST",
        "main_codes": ["GST", "GST", "GST", "FRE", "ITS"],
        "gtc": "TaxInclusive",
        "customers": [
            ("Bondi Surf Co", "Bondi", "NSW", "2026"),
            ("Yarra Valley Cellars", "Healesville", "VIC", "3777"),
            ("Daintree Eco Tours", "Cairns", "QLD", "4870"),
            ("Fremantle Fishmongers", "Fremantle", "WA", "6160"),
            ("Hobart Harbour Hardware", "Hobart", "TAS", "7000"),
        ],
        "tax_after_discount": True,
    },
}
# multicurrency: a US AST company billing in CAD, EUR and GBP too
COMPANIES["mc"] = {
    **COMPANIES["us_ast"],
    "name": "Global Goods Inc. (multicurrency)",
    "multicurrency": ["CAD", "EUR", "GBP"],
    # currency -> [(days before today, rate to USD)]
    "rates_history": {
        "CAD": [(400, "0.7410"), (200, "0.7312"), (60, "0.7275"), (0, "0.7198")],
        "EUR": [(400, "1.0810"), (200, "1.0925"), (60, "1.1034"), (0, "1.1662")],
        "GBP": [(400, "1.2650"), (200, "1.2784"), (60, "1.3102"), (0, "1.3374")],
    },
    "customers": [
        *COMPANIES["us_ast"]["customers"][:4],
        ("Toronto Tech Imports", "Toronto", "ON", "M5V 2T6", "CAD"),
        ("Montréal Mode", "Montréal", "QC", "H3B 4W8", "CAD"),
        ("Berlin Brauhaus GmbH", "Berlin", "BE", "10115", "EUR"),
        ("Lyon Lumière SARL", "Lyon", "", "69002", "EUR"),
        ("Edinburgh Ember Ltd", "Edinburgh", "", "EH1 1YZ", "GBP"),
    ],
}

# (name, type, unit price, taxable in the US, description)
ITEMS = [
    ("Consulting", "Service", "125", False, "Consulting, per hour"),
    ("Installation", "Service", "85", False, "Installation labour"),
    ("Widget", "NonInventory", "19.99", True, "Widget, each"),
    ("Gadget", "Inventory", "49.5", True, "Gadget, boxed"),
    ("Bolt (per unit)", "NonInventory", "0.5306667", True, "Bolt, priced per unit"),
    ("Cable (per metre)", "NonInventory", "1.2345678", True, "Cable, per metre"),
    ("Premium Kit", "Inventory", "299", True, "Premium kit"),
    ("Maintenance Plan", "Service", "59.95", False, "Monthly maintenance"),
]
BUNDLES = [("Starter Bundle", [("Widget", 2), ("Bolt (per unit)", 15), ("Installation", 1)])]
CLASSES = ["Retail", "Wholesale", ("Online", "Retail")]
DEPARTMENTS = ["North", "South"]


def seed_company(realm, kind, invoices=40, payments=25, seed=7):
    """A company of ``kind`` with its tax tables, lists and a generated document mix."""
    spec = COMPANIES[kind]
    ev = realm.events_enabled
    realm.events_enabled = False
    try:
        _seed(realm, spec, invoices, payments, seed)
    finally:
        realm.events_enabled = ev


def _seed(realm, spec, invoices, payments, seed):
    p = realm.pref
    p["TaxModel"] = spec["model"]
    p["Country"] = spec["country"]
    p["HomeCurrency"] = spec["currency"]
    p["TaxAfterDiscountDefault"] = spec.get("tax_after_discount", True)
    p["GlobalTaxCalculation"] = spec.get("gtc")
    p["GroupLineAmount"] = "zero"
    p["AllowShipping"] = True
    p["ClassTrackingPerTxnLine"] = True
    p["TrackDepartments"] = True
    p["OnlinePayments"] = True
    if spec.get("multicurrency"):
        p["MultiCurrencyEnabled"] = True
        p["Currencies"] = list(spec["multicurrency"])
    accts = S.base_company(
        realm, spec["name"], tax=False, addr=spec["addr"], country=spec["country"]
    )
    codes = install_tax(realm, spec)
    if spec.get("rates_history"):
        import datetime as _dt

        today = _dt.date.fromisoformat(realm.today())
        for cur, hist in spec["rates_history"].items():
            for days, rate in hist:
                realm.rates.setdefault(cur, {})[(today - _dt.timedelta(days=days)).isoformat()] = (
                    Decimal(rate)
                )
        for cur in spec["multicurrency"]:
            S._raw(
                realm,
                "CompanyCurrency",
                {"Code": cur, "Name": S.E.CURRENCY_NAMES.get(cur, cur), "Active": True},
            )
    realm.build_preferences()
    items = {}
    for name, typ, price, taxable, desc in ITEMS:
        it = {"Name": name, "Type": typ, "UnitPrice": price, "Description": desc}
        it["IncomeAccountRef"] = {"value": accts["Sales of Product Income"]["Id"]}
        if spec["model"] == "non_us":
            it["SalesTaxCodeRef"] = {"value": codes[spec["default_code"]]}
        else:
            it["Taxable"] = taxable
        if typ == "Inventory":
            it["AssetAccountRef"] = {"value": accts["Inventory Asset"]["Id"]}
            it["ExpenseAccountRef"] = {"value": accts["Cost of Goods Sold"]["Id"]}
            it["QtyOnHand"] = 500
            it["InvStartDate"] = "2024-01-01"
        items[name] = realm.create("Item", it, emit=False)
    for name, comps in BUNDLES:
        realm.create(
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
    for c in CLASSES:
        name, parent = (c, None) if isinstance(c, str) else c
        body = {"Name": name}
        if parent:
            body["ParentRef"] = {"value": realm.uniq["Class"][parent.lower()][1]}
        realm.create("Class", body, emit=False)
    for d in DEPARTMENTS:
        realm.create("Department", {"Name": d}, emit=False)
    realm.create(
        "Term",
        {
            "Name": "15th of month",
            "Type": "DATE_DRIVEN",
            "DayOfMonthDue": 15,
            "DueNextMonthDays": 10,
        },
        emit=False,
    )
    for i, row in enumerate(spec["customers"]):
        name, city, state, postal = row[:4]
        addr = {"Line1": f"{100 + i * 7} Market St", "City": city, "PostalCode": postal}
        if state:
            addr["CountrySubDivisionCode"] = state
        addr["Country"] = spec["addr"][4]
        body = {
            "DisplayName": name,
            "CompanyName": name,
            "PrimaryEmailAddr": {"Address": f"ap@{name.split()[0].lower()}.example"},
            "BillAddr": addr,
            "ShipAddr": dict(addr),
        }
        if len(row) > 4 and row[4]:
            body["CurrencyRef"] = {"value": row[4]}
        if len(row) > 5:
            body["Taxable"] = row[5]
        realm.create("Customer", body, emit=False)
    S.generate(
        realm, invoices=invoices, payments=payments, seed=seed, tax_mix=True, spread_days=180
    )


def install_tax(realm, spec):
    """TaxAgency, TaxRate and TaxCode objects of a spec; returns {code name: id}."""
    agencies = [
        S._raw(realm, "TaxAgency", {"DisplayName": a, "TaxTrackedOnSales": True})
        for a in spec["agencies"]
    ]
    rates = {}
    for ag, name, pct in spec["rates"]:
        rates[name] = S._raw(
            realm,
            "TaxRate",
            {
                "Name": name,
                "Description": name,
                "Active": True,
                "RateValue": Decimal(pct),
                "AgencyRef": {"value": agencies[ag]["Id"]},
                "SpecialTaxType": "NONE" if Decimal(pct) else "ZERO_RATE",
                "DisplayType": "ReadOnly",
                "EffectiveTaxRate": [
                    {"RateValue": Decimal(pct), "EffectiveDate": "2020-01-01T00:00:00-08:00"}
                ],
            },
        )
    codes = {}
    for name, parts in spec["codes"]:
        codes[name] = make_code(
            realm,
            name,
            [
                (rates[p], "TaxOnAmount") if isinstance(p, str) else (rates[p[0]], p[1])
                for p in parts
            ],
        )["Id"]
    realm.pref["DefaultTaxCodeId"] = codes[spec["default_code"]]
    if spec.get("jurisdictions"):
        realm.pref["AstJurisdictions"] = {k: codes[v] for k, v in spec["jurisdictions"].items()}
    if spec["model"] != "non_us":
        for tc in ("TAX", "NON"):
            S._raw(realm, "TaxCode", S.us_line_code(tc), oid=tc)
    return codes


def make_code(realm, name, rates, description=None):
    """A TaxCode of [(TaxRate, TaxTypeApplicable)] in that TaxOrder."""
    details = [
        {
            "TaxRateRef": {"value": r["Id"], "name": r["Name"]},
            "TaxTypeApplicable": how,
            "TaxOrder": i,
        }
        for i, (r, how) in enumerate(rates)
    ]
    return S._raw(
        realm,
        "TaxCode",
        {
            "Name": name,
            "Description": description or name,
            "Active": True,
            "Hidden": False,
            "Taxable": bool(rates) and any(r["RateValue"] for r, _ in rates),
            "TaxGroup": len(rates) > 1,
            "SalesTaxRateList": {"TaxRateDetail": details},
            "PurchaseTaxRateList": {"TaxRateDetail": []},
        },
    )
