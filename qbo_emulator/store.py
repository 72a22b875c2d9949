"""In-memory companies (realms): entities, indexes, numbering, balances, change log."""

from __future__ import annotations

import copy
import json
import threading
from collections import defaultdict
from decimal import Decimal

from . import entities as E
from . import faults
from .features import Meter
from .util import ZERO, dumps, fmt_dt, money

UNIQUE_GROUP = {
    "Customer": "person",
    "Vendor": "person",
    "Employee": "person",
    "Item": "Item",
    "Account": "Account",
    "Term": "Term",
    "PaymentMethod": "PaymentMethod",
    "Class": "Class",
    "Department": "Department",
}
NAME_FIELD = {
    "Customer": "DisplayName",
    "Vendor": "DisplayName",
    "Employee": "DisplayName",
    "Item": "FullyQualifiedName",
    "Account": "FullyQualifiedName",
    "Term": "Name",
    "PaymentMethod": "Name",
    "Class": "FullyQualifiedName",
    "Department": "FullyQualifiedName",
}
KIND_WORD = {
    "Customer": "customer",
    "Vendor": "vendor",
    "Employee": "employee",
    "Item": "product or service",
    "Account": "account",
    "Term": "term",
    "PaymentMethod": "payment method",
    "Class": "class",
    "Department": "location",
}


EMAIL_MESSAGES = {
    "InvoiceMessage": {
        "Subject": "Invoice [Invoice No.] from [Company Name]",
        "Message": "Dear [Full Name],\n\nWe appreciate your business. Please find your invoice "
        "details here. Feel free to contact us if you have any questions.\n\n"
        "Have a great day!\n[Company Name]",
    },
    "EstimateMessage": {
        "Subject": "Estimate [Estimate No.] from [Company Name]",
        "Message": "Dear [Full Name],\n\nPlease review the estimate below. Feel free to contact "
        "us if you have any questions.\nWe look forward to working with you.\n\n"
        "Have a great day!\n[Company Name]",
    },
    "SalesReceiptMessage": {
        "Subject": "Sales Receipt [Sales Receipt No.] from [Company Name]",
        "Message": "Dear [Full Name],\n\nPlease review the sales receipt below.\n"
        "We appreciate it very much.\n\nThanks for your business!\n[Company Name]",
    },
    "StatementMessage": {
        "Subject": "Statement from [Company Name]",
        "Message": "Dear [Full Name],\n\nYour statement is attached. Please remit payment at "
        "your earliest convenience.\nThank you for your business - we appreciate it very "
        "much.\n\nSincerely,\n[Company Name]",
    },
}


class Realm:
    def __init__(self, realm_id, company_name, clock, store):
        self.id = realm_id
        self.company_name = company_name
        self.clock = clock
        self.store = store
        self.data = {e: {} for e in E.ALL_ENTITIES}
        self.cache = {e: {} for e in E.ALL_ENTITIES}
        self.mtime = {e: {} for e in E.ALL_ENTITIES}
        self.tomb = {e: {} for e in E.ALL_ENTITIES}  # id -> (epoch, iso)
        self.next_id = defaultdict(lambda: 1)
        self.next_doc = 1001
        self.docnums = defaultdict(dict)
        self.uniq = defaultdict(dict)
        self.cust_txns = defaultdict(set)
        self.children = defaultdict(set)
        self.voided = set()
        self.requestids = {}
        self.pref = {
            "CustomTxnNumbers": False,
            "custom": {
                "1": {"enabled": False, "name": ""},
                "2": {"enabled": False, "name": ""},
                "3": {"enabled": False, "name": ""},
            },
            "DefaultTermsId": None,
            "DefaultTaxCodeId": None,
            "AllowDiscount": True,
            "AllowDeposit": True,
            "AllowShipping": False,
            "AllowServiceDate": True,
            # tax (API_FACTS §8): us_ast | us_manual | non_us
            "TaxModel": "us_ast",
            "AstJurisdictions": {},
            "TaxAfterDiscountDefault": False,
            "GlobalTaxCalculation": None,
            # non-US: amounts a request supplies in TxnTaxDetail.TaxLine (per TaxRateRef) are
            # "honoured" (Finance.xsd: "calculated by QuickBooks business logic or you may
            # supply it when adding a transaction") or "ignored" (the non-US workflow page
            # only says TxnTaxDetail is returned): sources disagree, both are modelled.
            "SuppliedTaxLines": "honoured",
            "GroupLineAmount": "sum",
            "ShippingTaxable": False,
            "CdcTaxEntities": False,
            # query / platform
            "AllowOrderById": False,
            # rows that tie under ORDERBY (one CreateTime second): "id" keeps Id order (stable
            # STARTPOSITION pages), "shuffled" answers them in another order on every query
            # (SQL promises no order among ties; Intuit documents none)
            "QueryTieOrder": "id",
            "MeteringAllowance": 500000,
            # currencies, classes, departments, online payments
            "HomeCurrency": "USD",
            "MultiCurrencyEnabled": False,
            "Currencies": [],
            "ClassTrackingPerTxn": False,
            "ClassTrackingPerTxnLine": False,
            "TrackDepartments": False,
            "OnlinePayments": False,
            "Country": "US",
        }
        self.files = {}  # Attachable id -> bytes
        self.meter = Meter()
        self.rates = {}  # currency -> {date: Decimal rate to the home currency}
        self.events_enabled = True

    # ---------------------------------------------------------------- lookups
    def today(self):
        return self.clock.today()

    def get(self, entity, oid):
        return self.data[entity].get(str(oid))

    def objects(self, entity):
        return self.data[entity].values()

    def json(self, entity, oid):
        c = self.cache[entity]
        s = c.get(oid)
        if s is None:
            s = dumps(self.data[entity][oid])
            c[oid] = s
        return s

    def home_currency(self):
        return self.pref.get("HomeCurrency") or "USD"

    def currencies(self):
        return [self.home_currency(), *self.pref.get("Currencies", [])]

    def exchange_rate(self, code, date):
        """The latest rate of ``code`` on or before ``date`` (1 for the home currency)."""
        if code == self.home_currency():
            return Decimal(1)
        table = self.rates.get(code) or {}
        best = None
        for d in sorted(table):
            if d <= date:
                best = table[d]
        if best is None and table:
            best = table[min(table)]
        return best

    def default_tax_code(self):
        return self.pref.get("DefaultTaxCodeId")

    def default_term(self):
        tid = self.pref.get("DefaultTermsId")
        return self.get("Term", tid) if tid else None

    def account_by_name(self, name):
        got = self.uniq["Account"].get(name.lower())
        return self.get("Account", got[1]) if got else None

    def sales_custom_fields(self):
        return {k: v["name"] for k, v in self.pref["custom"].items() if v["enabled"]}

    def top_customer(self, cid):
        c = self.get("Customer", cid)
        seen = 0
        while c is not None and c.get("ParentRef") and seen < 10:
            c = self.get("Customer", c["ParentRef"]["value"])
            seen += 1
        return c["Id"] if c else cid

    # ---------------------------------------------------------------- internals
    def _touch(self, entity, obj, op, create=False, emit=True, ts=None):
        ts = self.clock.time() if ts is None else ts
        iso = fmt_dt(self.clock.now()) if ts is None else _iso(ts)
        md = obj.setdefault("MetaData", {})
        if create:
            md["CreateTime"] = iso
        md["LastUpdatedTime"] = iso
        oid = obj["Id"]
        self.data[entity][oid] = obj
        self.cache[entity].pop(oid, None)
        self.mtime[entity][oid] = ts
        if emit:
            self.store.emit(self, entity, oid, op, iso)

    def _bump(self, obj):
        obj["SyncToken"] = str(int(obj.get("SyncToken", "0")) + 1)

    def _index_name(self, entity, obj, old=None):
        grp = UNIQUE_GROUP.get(entity)
        if not grp:
            return
        field = NAME_FIELD[entity]
        if old is not None and old.get(field):
            cur = self.uniq[grp].get(old[field].lower())
            if cur == (entity, old["Id"]):
                del self.uniq[grp][old[field].lower()]
        self.uniq[grp][obj[field].lower()] = (entity, obj["Id"])

    def _check_name(self, entity, obj, oid=None):
        grp = UNIQUE_GROUP.get(entity)
        if not grp:
            return
        name = obj[NAME_FIELD[entity]]
        got = self.uniq[grp].get(name.lower())
        if got is not None and got != (entity, oid):
            raise faults.duplicate_name(KIND_WORD[got[0]])

    def _docnumber(self, entity, obj, src, old, allow_dup=False):
        if entity not in E.NUMBERED:
            return
        dn = obj.get("DocNumber")
        if dn == "AUTO_GENERATE" or src.get("AutoDocNumber") is True:
            dn = None
            force = True
        else:
            force = False
        if dn is None:
            if old is not None and old.get("DocNumber") and not force:
                dn = old["DocNumber"]
            elif force or (old is None and not self.pref["CustomTxnNumbers"]):
                idx = self.docnums[entity]
                n = self.next_doc
                while str(n).lower() in idx:
                    n += 1
                dn = str(n)
        if dn is None:
            obj.pop("DocNumber", None)
            return
        obj["DocNumber"] = dn
        got = self.docnums[entity].get(dn.lower())
        if got is not None and got != (old or {}).get("Id") and not allow_dup:
            raise faults.duplicate_docnumber()
        if dn.isdigit() and int(dn) >= self.next_doc:
            self.next_doc = int(dn) + 1

    def _index_doc(self, entity, obj, old=None):
        if entity not in E.NUMBERED:
            return
        idx = self.docnums[entity]
        if old is not None and old.get("DocNumber"):
            if idx.get(old["DocNumber"].lower()) == old["Id"]:
                del idx[old["DocNumber"].lower()]
        if obj is not None and obj.get("DocNumber"):
            idx.setdefault(obj["DocNumber"].lower(), obj["Id"])

    # ---------------------------------------------------------------- balances
    def _applied_to(self, ttype, tid, skip_payment=None):
        txn = self.get(ttype, tid)
        total = ZERO
        for lt in (txn or {}).get("LinkedTxn", []):
            if lt.get("TxnType") != "Payment" or lt["TxnId"] == skip_payment:
                continue
            pay = self.get("Payment", lt["TxnId"])
            if pay is None:
                continue
            for ln in pay["Line"]:
                for pl in ln["LinkedTxn"]:
                    if pl["TxnId"] == tid and pl["TxnType"] == ttype:
                        total += ln["Amount"]
        return total

    def _payment_links(self, pay, sign):
        """sign=+1 apply, -1 unapply the payment to its linked invoices/credit memos."""
        touched = []
        for ln in pay.get("Line", []):
            for lt in ln.get("LinkedTxn", []):
                txn = self.get(lt["TxnType"], lt["TxnId"])
                if txn is None or lt["TxnType"] not in ("Invoice", "CreditMemo"):
                    continue
                links = txn.setdefault("LinkedTxn", [])
                mine = {"TxnId": pay["Id"], "TxnType": "Payment"}
                if sign > 0 and mine not in links:
                    links.append(mine)
                elif sign < 0 and mine in links:
                    links.remove(mine)
                touched.append((lt["TxnType"], txn))
        for ttype, txn in touched:
            applied = self._applied_to(ttype, txn["Id"])
            bal = money(txn["TotalAmt"] - applied)
            txn["Balance"] = bal
            if ttype == "CreditMemo":
                txn["RemainingCredit"] = bal
            txn["HomeBalance"] = E.home(bal, txn.get("ExchangeRate"))
            self._bump(txn)
            self._touch(ttype, txn, "Update", emit=False)
        return touched

    def recompute_customer(self, cid, up=True):
        c = self.get("Customer", cid)
        if c is None:
            return
        bal = ZERO
        for ent, tid in self.cust_txns.get(cid, ()):
            t = self.get(ent, tid)
            if t is None:
                continue
            if ent == "Invoice":
                bal += t.get("Balance", ZERO)
            elif ent == "CreditMemo":
                bal -= t.get("RemainingCredit", ZERO)
            elif ent == "Payment":
                bal -= t.get("UnappliedAmt", ZERO)
        c["Balance"] = money(bal)
        withjobs = bal
        for ch in self.children.get(cid, ()):
            cc = self.get("Customer", ch)
            if cc is not None:
                withjobs += cc.get("BalanceWithJobs", ZERO)
        c["BalanceWithJobs"] = money(withjobs)
        self.cache["Customer"].pop(cid, None)
        if up and c.get("ParentRef"):
            self.recompute_customer(c["ParentRef"]["value"])

    def _link_customer(self, entity, obj, old):
        if entity not in E.TXN_ENTITIES or entity in ("Estimate",):
            return set()
        cids = set()
        if old is not None and old.get("CustomerRef"):
            oc = old["CustomerRef"]["value"]
            self.cust_txns[oc].discard((entity, old["Id"]))
            cids.add(oc)
        if obj is not None and obj.get("CustomerRef"):
            nc = obj["CustomerRef"]["value"]
            self.cust_txns[nc].add((entity, obj["Id"]))
            cids.add(nc)
        return cids

    def _customers_of(self, touched):
        out = set()
        for _, t in touched:
            if t.get("CustomerRef"):
                out.add(t["CustomerRef"]["value"])
        return out

    # ---------------------------------------------------------------- writes
    def create(self, entity, payload, emit=True, check=True, allow_dup=False):
        if entity not in E.WRITABLE_ENTITIES or entity == "Preferences":
            raise faults.unsupported_operation(f"Operation Create is not supported for {entity}.")
        if check:
            E.check_props(entity, payload)
        src = E.input_fields(entity, payload)
        if entity in E.SALES_ENTITIES:
            obj = E.norm_sales(self, entity, src, None, check=check)
        else:
            obj = E.NORMALIZERS[entity](self, entity, src, None)
        oid = str(self.next_id[entity])
        while oid in self.data[entity] or oid in self.tomb[entity]:
            self.next_id[entity] += 1
            oid = str(self.next_id[entity])
        self._check_name(entity, obj)
        self._docnumber(entity, obj, src, None, allow_dup)
        self.next_id[entity] += 1
        obj = {"Id": oid, "SyncToken": "0", "domain": "QBO", "sparse": False, **obj}
        if entity == "Payment":
            self._check_payment_amounts(obj, None)
        self._touch(entity, obj, "Create", create=True, emit=emit)
        self._index_name(entity, obj)
        self._index_doc(entity, obj)
        if entity == "Customer" and obj.get("ParentRef"):
            self.children[obj["ParentRef"]["value"]].add(oid)
        cids = self._link_customer(entity, obj, None)
        if entity == "Payment":
            cids |= self._customers_of(self._payment_links(obj, +1))
        if emit:
            for cid in cids:
                self.recompute_customer(cid)
        return obj

    def _check_payment_amounts(self, new, old):
        for ln in new["Line"]:
            for lt in ln["LinkedTxn"]:
                if lt["TxnType"] not in ("Invoice", "CreditMemo"):
                    continue
                txn = self.get(lt["TxnType"], lt["TxnId"])
                if lt["TxnType"] == "Invoice" and new["Id"] in self.voided:
                    continue
                open_bal = txn["TotalAmt"] - self._applied_to(
                    lt["TxnType"], lt["TxnId"], skip_payment=old and old["Id"]
                )
                if ln["Amount"] > open_bal + Decimal("0.005"):
                    raise faults.business(
                        f"The payment amount {ln['Amount']} is more than the open balance "
                        f"{money(open_bal)} of {lt['TxnType']} {lt['TxnId']}.",
                        "Line.Amount",
                    )

    def _get_for_write(self, entity, payload):
        oid = E._id(payload.get("Id"), "Id")
        if oid is None:
            raise faults.required_missing("Id")
        if not oid.isdigit() and entity not in ("TaxCode",):
            raise faults.invalid_id(oid)
        old = self.get(entity, oid)
        if old is None:
            raise faults.object_not_found(
                "Id",
                f"Object Not Found : Something you're trying to use has been made "
                f"inactive. Check the fields with accounts, customers, items, vendors or "
                f"employees. {entity} Id={oid}",
            )
        st = payload.get("SyncToken")
        if st is None or st == "":
            raise faults.required_missing("SyncToken")
        if str(st).split(".")[0] != old["SyncToken"]:
            raise faults.stale_object(entity)
        return old

    def update(self, entity, payload, emit=True, check_token=True, allow_dup=False, op="Update"):
        if entity == "Preferences":
            return self.update_preferences(payload, check_token=check_token)
        if entity not in E.WRITABLE_ENTITIES:
            raise faults.unsupported_operation(f"Operation Update is not supported for {entity}.")
        E.check_props(entity, payload)
        if check_token:
            old = self._get_for_write(entity, payload)
        else:
            old = self.get(entity, E._id(payload.get("Id"), "Id") or "")
            if old is None:
                raise faults.object_not_found("Id")
        sparse = payload.get("sparse") in (True, "true")
        src = E.input_fields(entity, payload)
        if sparse:
            base = E.input_fields(entity, copy.deepcopy(old))
            if "TxnTaxDetail" not in payload and "Line" in payload:
                base.pop("TxnTaxDetail", None)  # new lines: tax recomputed unless sent
            if entity == "Customer" and "Job" in base:
                base.pop("Job")
            base.update(src)
            src = base
        if entity in E.SALES_ENTITIES:
            new = E.norm_sales(self, entity, src, old)
        else:
            new = E.NORMALIZERS[entity](self, entity, src, old)
        new = {
            "Id": old["Id"],
            "SyncToken": old["SyncToken"],
            "domain": "QBO",
            "sparse": False,
            **new,
        }
        new["MetaData"] = dict(old.get("MetaData", {}))
        self._check_name(entity, new, old["Id"])
        self._docnumber(entity, new, src, old, allow_dup)
        if entity == "Invoice":
            new["LinkedTxn"] = old.get("LinkedTxn", [])
            applied = self._applied_to("Invoice", old["Id"])
            if applied > new["TotalAmt"]:
                raise faults.business(
                    "The invoice total can't be less than the payments applied to it.", "TotalAmt"
                )
            new["Balance"] = money(new["TotalAmt"] - applied)
            new["HomeBalance"] = E.home(new["Balance"], new.get("ExchangeRate"))
            if old["Id"] in self.voided:
                self.voided.discard(old["Id"])
        elif entity == "CreditMemo":
            new["LinkedTxn"] = old.get("LinkedTxn", [])
            applied = self._applied_to("CreditMemo", old["Id"])
            new["RemainingCredit"] = new["Balance"] = money(new["TotalAmt"] - applied)
            new["HomeBalance"] = E.home(new["Balance"], new.get("ExchangeRate"))
        elif entity == "Payment":
            self._check_payment_amounts(new, old)
        cids = set()
        if entity == "Payment":
            cids |= self._customers_of(self._payment_links(old, -1))
        self._bump(new)
        self._touch(entity, new, op, emit=emit)
        self._index_name(entity, new, old)
        self._index_doc(entity, new, old)
        if entity == "Customer":
            op_ = (old.get("ParentRef") or {}).get("value")
            np_ = (new.get("ParentRef") or {}).get("value")
            if op_ != np_:
                if op_:
                    self.children[op_].discard(new["Id"])
                if np_:
                    self.children[np_].add(new["Id"])
            new["Balance"] = old.get("Balance", ZERO)
            new["BalanceWithJobs"] = old.get("BalanceWithJobs", ZERO)
        cids |= self._link_customer(entity, new, old)
        if entity == "Payment":
            cids |= self._customers_of(self._payment_links(new, +1))
        for cid in cids:
            self.recompute_customer(cid)
        return new

    def delete(self, entity, payload, check_token=True):
        if entity not in E.WRITABLE_ENTITIES or entity == "Preferences":
            raise faults.unsupported_operation(f"Operation Delete is not supported for {entity}.")
        if check_token:
            old = self._get_for_write(entity, payload)
        else:
            old = self.get(entity, E._id(payload.get("Id"), "Id") or "")
            if old is None:
                raise faults.object_not_found("Id")
        if entity in E.LIST_ENTITIES:
            if (
                old.get("Active") is False
                and NAME_FIELD.get(entity)
                and old[NAME_FIELD[entity]].endswith("(deleted)")
            ):
                raise faults.object_not_found("Id")
            new = copy.deepcopy(old)
            new["Active"] = False
            field = NAME_FIELD.get(entity, "Name")
            base_field = "DisplayName" if field == "DisplayName" else "Name"
            base = new[base_field] + " (deleted)"
            name = base
            n = 1
            grp = UNIQUE_GROUP.get(entity)
            while grp and self.uniq[grp].get(name.lower()) not in (None, (entity, old["Id"])):
                n += 1
                name = f"{base[:-1]} {n})"
            new[base_field] = name
            if "FullyQualifiedName" in new:
                fq = new["FullyQualifiedName"].rsplit(":", 1)
                fq[-1] = name
                new["FullyQualifiedName"] = ":".join(fq)
            if entity == "Customer":
                new["PrintOnCheckName"] = new.get("PrintOnCheckName", name)
            self._bump(new)
            self._touch(entity, new, "Delete")
            self._index_name(entity, new, old)
            return new
        # transactions: hard delete
        cids = set()
        if entity == "Payment":
            cids |= self._customers_of(self._payment_links(old, -1))
        elif entity in ("Invoice", "CreditMemo"):
            cids |= self._unlink_payments(entity, old)
        oid = old["Id"]
        del self.data[entity][oid]
        self.cache[entity].pop(oid, None)
        self.mtime[entity].pop(oid, None)
        ts = self.clock.time()
        iso = _iso(ts)
        self.tomb[entity][oid] = (ts, iso)
        self._index_doc(entity, None, old)
        cids |= self._link_customer(entity, None, old)
        self.voided.discard(oid)
        self.store.emit(self, entity, oid, "Delete", iso)
        for cid in cids:
            self.recompute_customer(cid)
        return {"domain": "QBO", "status": "Deleted", "Id": oid}

    def _unlink_payments(self, ttype, txn):
        """Remove payment lines pointing at txn (void/delete of an invoice/credit memo)."""
        cids = set()
        for lt in list(txn.get("LinkedTxn", [])):
            if lt.get("TxnType") != "Payment":
                continue
            pay = self.get("Payment", lt["TxnId"])
            if pay is None:
                continue
            new_lines = []
            for ln in pay["Line"]:
                keep = [
                    x
                    for x in ln["LinkedTxn"]
                    if not (x["TxnId"] == txn["Id"] and x["TxnType"] == ttype)
                ]
                if keep:
                    ln["LinkedTxn"] = keep
                    new_lines.append(ln)
            pay["Line"] = new_lines
            applied = sum(
                (
                    ln["Amount"] * (-1 if ln["LinkedTxn"][0]["TxnType"] == "CreditMemo" else 1)
                    for ln in new_lines
                ),
                ZERO,
            )
            pay["UnappliedAmt"] = money(pay["TotalAmt"] - applied)
            self._bump(pay)
            self._touch("Payment", pay, "Update")
            cids.add(pay["CustomerRef"]["value"])
        txn["LinkedTxn"] = [x for x in txn.get("LinkedTxn", []) if x.get("TxnType") != "Payment"]
        return cids

    def void(self, entity, payload, check_token=True):
        if entity not in ("Invoice", "Payment", "SalesReceipt", "CreditMemo", "RefundReceipt"):
            raise faults.unsupported_operation(f"Operation Void is not supported for {entity}.")
        if check_token:
            old = self._get_for_write(entity, payload)
        else:
            old = self.get(entity, E._id(payload.get("Id"), "Id") or "")
            if old is None:
                raise faults.object_not_found("Id")
        cids = set()
        if entity == "Payment":
            cids |= self._customers_of(self._payment_links(old, -1))
        elif entity in ("Invoice", "CreditMemo"):
            cids |= self._unlink_payments(entity, old)
        new = copy.deepcopy(old)
        for ln in new.get("Line", []):
            if "Amount" in ln:
                ln["Amount"] = ZERO
            for c in ln.get("GroupLineDetail", {}).get("Line", []):
                c["Amount"] = ZERO
                c["SalesItemLineDetail"].pop("Qty", None)
            det = ln.get("SalesItemLineDetail")
            if det is not None:
                det.pop("Qty", None)
        for k in (
            "TotalAmt",
            "HomeTotalAmt",
            "Balance",
            "HomeBalance",
            "UnappliedAmt",
            "RemainingCredit",
        ):
            if k in new:
                new[k] = ZERO
        if "TxnTaxDetail" in new:
            new["TxnTaxDetail"] = {"TotalTax": ZERO}
        new["PrivateNote"] = "Voided"
        self.voided.add(new["Id"])
        self._bump(new)
        self._touch(entity, new, "Void")
        cids |= self._link_customer(entity, new, old)
        for cid in cids:
            self.recompute_customer(cid)
        return new

    # ---------------------------------------------------------------- preferences
    def build_preferences(self, bump=False, emit=False):
        p = self.pref
        old = self.get("Preferences", "1")
        custom = p["custom"]
        obj = {
            "Id": "1",
            "SyncToken": old["SyncToken"] if old else "0",
            "domain": "QBO",
            "sparse": False,
            "AccountingInfoPrefs": {
                "TrackDepartments": bool(p.get("TrackDepartments")),
                "DepartmentTerminology": "Location",
                "ClassTrackingPerTxn": bool(p.get("ClassTrackingPerTxn")),
                "ClassTrackingPerTxnLine": bool(p.get("ClassTrackingPerTxnLine")),
                "CustomerTerminology": "Customers",
                "BookCloseDate": None,
                "FiscalYearStartMonth": "January",
            },
            "ProductAndServicesPrefs": {
                "ForSales": True,
                "ForPurchase": True,
                "QuantityWithPriceAndRate": True,
                "QuantityOnHand": True,
            },
            "SalesFormsPrefs": {
                "CustomField": [
                    {
                        "CustomField": [
                            {
                                "Name": f"SalesFormsPrefs.UseSalesCustom{i}",
                                "Type": "BooleanType",
                                "BooleanValue": custom[str(i)]["enabled"],
                            }
                            for i in (1, 2, 3)
                        ]
                    },
                    {
                        "CustomField": [
                            {
                                "Name": f"SalesFormsPrefs.SalesCustomName{i}",
                                "Type": "StringType",
                                "StringValue": custom[str(i)]["name"],
                            }
                            for i in (1, 2, 3)
                            if custom[str(i)]["name"]
                        ]
                    },
                ],
                "CustomTxnNumbers": p["CustomTxnNumbers"],
                "AllowDeposit": p["AllowDeposit"],
                "AllowDiscount": p["AllowDiscount"],
                "AllowEstimates": True,
                "AllowServiceDate": p["AllowServiceDate"],
                "AllowShipping": p["AllowShipping"],
                "AutoApplyCredit": True,
                "AutoApplyPayments": True,
                "ETransactionEnabledStatus": "NotApplicable",
                "ETransactionAttachPDF": False,
                "ETransactionPaymentEnabled": False,
                "IPNSupportEnabled": False,
                "PrintItemWithZeroAmount": True,
                "EmailCopyToCompany": False,
                "UsingPriceLevels": False,
                "UsingProgressInvoicing": False,
                "DefaultCustomerMessage": "Thank you for your business!",
            },
            "VendorAndPurchasesPrefs": {
                "TrackingByCustomer": True,
                "BillableExpenseTracking": True,
                "POCustomField": [],
            },
            "TaxPrefs": self._tax_prefs(),
            "CurrencyPrefs": {
                "MultiCurrencyEnabled": bool(p.get("MultiCurrencyEnabled")),
                "HomeCurrency": {"value": self.home_currency()},
            },
            "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
            "OtherPrefs": {
                "NameValue": [
                    {
                        "Name": "SalesFormsPrefs.DefaultCustomerMessage",
                        "Value": "Thank you for your business!",
                    },
                    {"Name": "SalesFormsPrefs.DefaultItem", "Value": "1"},
                    {"Name": "VendorAndPurchasesPrefs.UseMasterAccount", "Value": "true"},
                ]
            },
            "EmailMessagesPrefs": EMAIL_MESSAGES,
            "TimeTrackingPrefs": {
                "UseServices": True,
                "BillCustomers": True,
                "ShowBillRateToAll": False,
                "WorkWeekStartDate": "Monday",
                "MarkTimeEntriesBillable": True,
            },
        }
        if p.get("OnlinePayments"):
            obj["SalesFormsPrefs"]["ETransactionPaymentEnabled"] = True
        if p.get("DefaultTermsId"):
            obj["SalesFormsPrefs"]["DefaultTerms"] = {"value": p["DefaultTermsId"]}
        if bump and old:
            self._bump(obj)
        obj["MetaData"] = dict(old["MetaData"]) if old else {}
        self._touch("Preferences", obj, "Update", create=old is None, emit=emit)
        return obj

    def _tax_prefs(self):
        """PartnerTaxEnabled true = AST on and set up; absent = not on AST (API_FACTS §8)."""
        m = self.pref.get("TaxModel") or "us_ast"
        out = {"UsingSalesTax": True}
        if m == "us_ast":
            out["PartnerTaxEnabled"] = True
        if self.pref.get("DefaultTaxCodeId") and m != "non_us":
            out["TaxGroupCodeRef"] = {"value": self.pref["DefaultTaxCodeId"]}
        return out

    def set_preferences(self, changes: dict, emit=True):
        """Control-API form: {"CustomTxnNumbers": bool, "SalesCustomName1": str,
        "UseSalesCustom1": bool, "DefaultTermsId": id, ...}."""
        for k, v in changes.items():
            if k.startswith("SalesCustomName") and k[-1] in "123":
                self.pref["custom"][k[-1]]["name"] = v or ""
            elif k.startswith("UseSalesCustom") and k[-1] in "123":
                self.pref["custom"][k[-1]]["enabled"] = bool(v)
            elif k in self.pref and k != "custom":
                self.pref[k] = v
            else:
                raise ValueError(f"unknown preference {k}")
        return self.build_preferences(bump=True, emit=emit)

    def update_preferences(self, payload, check_token=True):
        old = self.get("Preferences", "1")
        if check_token:
            st = payload.get("SyncToken")
            if st is None or st == "":
                raise faults.required_missing("SyncToken")
            if str(st) != old["SyncToken"]:
                raise faults.stale_object("Preferences")
        E.check_props("Preferences", payload)
        sf = payload.get("SalesFormsPrefs") or {}
        changes = {}
        for k in (
            "CustomTxnNumbers",
            "AllowDeposit",
            "AllowDiscount",
            "AllowShipping",
            "AllowServiceDate",
        ):
            if k in sf and isinstance(sf[k], bool):
                changes[k] = sf[k]
        for grp in sf.get("CustomField") or []:
            for cf in (grp or {}).get("CustomField", []) if isinstance(grp, dict) else []:
                n = cf.get("Name", "")
                short = n.split(".")[-1]
                if short.startswith("UseSalesCustom") and "BooleanValue" in cf:
                    changes[short] = cf["BooleanValue"] in (True, "true")
                elif short.startswith("SalesCustomName") and "StringValue" in cf:
                    changes[short] = cf["StringValue"]
        if isinstance(sf.get("DefaultTerms"), dict):
            changes["DefaultTermsId"] = sf["DefaultTerms"].get("value")
        return self.set_preferences(changes)

    # ---------------------------------------------------------------- CDC / export
    def cdc(self, names, since_ts, limit=1000):
        out = []
        left = limit
        for ent in names:
            rows = []
            for oid, ts in self.mtime[ent].items():
                if ts >= since_ts:
                    rows.append((ts, 0, oid))
            for oid, (ts, _iso) in self.tomb[ent].items():
                if ts >= since_ts:
                    rows.append((ts, 1, oid))
            rows.sort()
            rows = rows[: max(0, left)]
            left -= len(rows)
            items = []
            for _ts, dead, oid in rows:
                if dead:
                    items.append(
                        f'{{"domain":"QBO","status":"Deleted","Id":{json.dumps(oid)},'
                        f'"MetaData":{{"LastUpdatedTime":{json.dumps(self.tomb[ent][oid][1])}}}}}'
                    )
                else:
                    items.append(self.json(ent, oid))
            out.append((ent, items))
        return out

    def clone(self):
        """A deep copy of this company as it is now (data, indexes, preferences, files, meter,
        request ids), sharing the emulator's clock and store: what save / restore keep."""
        return copy.deepcopy(self, {id(self.clock): self.clock, id(self.store): self.store})

    def export(self):
        return {
            "realm_id": self.id,
            "company_name": self.company_name,
            "data": {e: list(v.values()) for e, v in self.data.items() if v},
            "mtime": {e: v for e, v in self.mtime.items() if v},
            "tomb": {e: v for e, v in self.tomb.items() if v},
            "next_id": dict(self.next_id),
            "next_doc": self.next_doc,
            "voided": sorted(self.voided),
            "pref": self.pref,
            "rates": {c: {d: str(r) for d, r in t.items()} for c, t in self.rates.items()},
        }

    def load(self, d):
        self.next_doc = d["next_doc"]
        self.next_id.update(d["next_id"])
        self.voided = set(d["voided"])
        self.pref.update(d["pref"])
        self.rates = {
            c: {dd: Decimal(r) for dd, r in t.items()} for c, t in d.get("rates", {}).items()
        }
        for ent, rows in d["data"].items():
            for o in rows:
                o = _to_decimal(o)
                self.data[ent][o["Id"]] = o
        for ent, m in d["mtime"].items():
            self.mtime[ent].update(m)
        for ent, m in d["tomb"].items():
            self.tomb[ent].update({k: tuple(v) for k, v in m.items()})
        self.reindex()

    def reindex(self):
        self.uniq.clear()
        self.docnums.clear()
        self.cust_txns.clear()
        self.children.clear()
        for ent in self.data:
            for o in self.data[ent].values():
                if ent in UNIQUE_GROUP:
                    self._index_name(ent, o)
                self._index_doc(ent, o)
                self._link_customer(ent, o, None)
                if ent == "Customer" and o.get("ParentRef"):
                    self.children[o["ParentRef"]["value"]].add(o["Id"])
        # parents after children: deepest first
        custs = sorted(self.data["Customer"].values(), key=lambda c: -c.get("Level", 0))
        for c in custs:
            self.recompute_customer(c["Id"], up=False)


_MONEY_KEYS = {
    "Amount",
    "TotalAmt",
    "HomeTotalAmt",
    "Balance",
    "HomeBalance",
    "UnitPrice",
    "Qty",
    "Quantity",
    "UnappliedAmt",
    "RemainingCredit",
    "TotalTax",
    "TaxPercent",
    "NetAmountTaxable",
    "Deposit",
    "RateValue",
    "CurrentBalance",
    "DiscountPercent",
    "CurrentBalanceWithSubAccounts",
    "BalanceWithJobs",
    "PurchaseCost",
    "QtyOnHand",
}


def _to_decimal(o, key=None):
    if isinstance(o, dict):
        return {k: _to_decimal(v, k) for k, v in o.items()}
    if isinstance(o, list):
        return [_to_decimal(v) for v in o]
    if key in _MONEY_KEYS and isinstance(o, (int, float)) and not isinstance(o, bool):
        return Decimal(repr(o))
    return o


def _iso(ts):
    import datetime as _dt

    from .util import TZ

    return fmt_dt(_dt.datetime.fromtimestamp(ts, TZ))


class Store:
    """All realms + the lock that serializes writes."""

    def __init__(self, clock):
        self.clock = clock
        self.lock = threading.RLock()
        self.realms: dict[str, Realm] = {}
        self.listeners = []

    def emit(self, realm, entity, oid, op, iso):
        if not realm.events_enabled:
            return
        for fn in self.listeners:
            fn(realm.id, entity, oid, op, iso)

    def add_realm(self, realm_id, company_name):
        r = Realm(realm_id, company_name, self.clock, self)
        self.realms[realm_id] = r
        return r
