"""QuickBooks Items -> the item cache (``biller_genie_qbo.item``) and Odoo products.

Every item is a cache row; the product items (Service, NonInventory, Inventory, Other Charge)
are also Odoo products, bound to their product; the others (Group, Category) are bound to their
cache row. Group items stay bundles: a cache row with its component lines. Items are not pushed
(an Odoo product without a QuickBooks item is named by the invoice push's pre-flight).
"""

from odoo import Command

from ..models.qbo_mapping import (
    dec,
    is_deleted,
    ref_name,
    ref_value,
    values_digest,
)
from .base import EntitySync
from .common import Triaged

CACHE_TYPES = {"Service", "NonInventory", "Inventory", "Group", "Category"}
# QBO item types imported as Odoo products.
PRODUCT_TYPES = {"Service", "NonInventory", "Inventory", "Other Charge"}
# QBO Item Type -> Odoo 18.0 product type (storability belongs to the stock module).
PRODUCT_TYPE = {
    "Service": "service",
    "Other Charge": "service",
    "NonInventory": "consu",
    "Inventory": "consu",
}


class ItemSync(EntitySync):
    """QBO Item -> item cache row and, for product items, ``product.product``."""

    model = "biller_genie_qbo.item"

    def __init__(self, connection, client=None):
        super().__init__(connection, client)
        self.cache = {}  # qbo id -> cache row, of the page being imported

    def bound_models(self):
        return (self.model, "product.product")

    # ------------------------------------------------------------------
    # Mappers (pure)
    # ------------------------------------------------------------------
    def to_odoo(self, remote):
        """Item cache values of a QBO Item (pure)."""
        item_type = remote.get("Type") or "Service"
        income = remote.get("IncomeAccountRef")
        return {
            "qbo_id": str(remote["Id"]),
            "name": remote.get("FullyQualifiedName") or remote.get("Name") or str(remote["Id"]),
            "item_type": item_type if item_type in CACHE_TYPES else "Other",
            "income_account_qbo_id": ref_value(income) or False,
            "income_account_name": ref_name(income) or False,
            "active": remote.get("Active", True) is not False,
            "description": remote.get("Description") or False,
            "unit_price": float(dec(remote.get("UnitPrice"), 0)),
            "sku": remote.get("Sku") or False,
            "taxable": bool(remote.get("Taxable")),
        }

    def product_values(self, remote):
        """Product values of a QBO Item of type Service / NonInventory / Inventory (pure)."""
        item_type = remote.get("Type") or "Service"
        vals = {
            "name": remote.get("Name") or str(remote["Id"]),
            "type": PRODUCT_TYPE.get(item_type, "service"),
            "list_price": float(dec(remote.get("UnitPrice"), 0)),
            "description_sale": remote.get("Description") or False,
            "default_code": remote.get("Sku") or False,
            "active": remote.get("Active", True) is not False,
            "sale_ok": True,
        }
        if "is_storable" in self.env["product.template"]._fields:
            vals["is_storable"] = item_type == "Inventory"
        if not remote.get("Taxable"):
            vals["taxes_id"] = [Command.clear()]
        return vals

    def component_values(self, remote):
        """[(component qbo id, name, quantity)] of a Group item (pure)."""
        detail = remote.get("ItemGroupDetail") or {}
        out = []
        for line in detail.get("ItemGroupLine") or []:
            ref = line.get("ItemRef") or {}
            if ref_value(ref):
                out.append((ref_value(ref), ref_name(ref) or "", float(dec(line.get("Qty"), 1))))
        return out

    def map_remote(self, remote, lookups):
        """A QBO Item mapped for the triage: ``vals`` {"cache", "product" (or None),
        "components" (or None)}."""
        product_vals = None
        if remote.get("Type") in PRODUCT_TYPES:
            product_vals = self.product_values(remote)
            product_vals["company_id"] = self.conn.company_id.id
        components = self.component_values(remote) if remote.get("Type") == "Group" else None
        vals = {"cache": self.to_odoo(remote), "product": product_vals, "components": components}
        return Triaged(remote, vals, values_digest(vals))

    # ------------------------------------------------------------------
    # Import (one page)
    # ------------------------------------------------------------------
    def is_current(self, binding, remote):
        """Unchanged only when the cache row exists (and knows the product it is bound to)."""
        item = self.cache.get(str(remote["Id"]))
        if binding.res_model == "product.product":
            return bool(item) and item.product_id.id == binding.res_id
        return bool(item)

    def cancel_note(self, reason):
        return ""

    def cancel(self, records, note):
        """Deleted in QuickBooks: the product (or cache row) is archived."""
        records.write({"active": False})

    triage_fields = ("name", "active")

    def triage_records(self):
        # A product item is bound to its product, the others to their cache row.
        return self.env["product.product"].with_context(active_test=False)

    def lookups(self, entity, remotes):
        """The page's cache rows (the triage asks :meth:`is_current`); the mapper needs no
        lookup."""
        ids = [str(r["Id"]) for r in remotes]
        self.cache = {
            item.qbo_id: item
            for item in self.Model.with_context(active_test=False).search(
                [("connection_id", "=", self.conn.id), ("qbo_id", "in", ids)]
            )
        }
        return super().lookups(entity, remotes)

    def write_cache(self, triaged):
        """Write the cache rows of these items (created when missing) and their bundles'
        components."""
        new_cache, components = [], {}
        for item in triaged:
            qbo_id = str(item.remote["Id"])
            if qbo_id in self.cache:
                self.cache[qbo_id].write(item.vals["cache"])
            else:
                new_cache.append(dict(item.vals["cache"], connection_id=self.conn.id))
            if item.vals["components"] is not None:
                components[qbo_id] = item.vals["components"]
        if new_cache:
            for cache_row in self.Model.create(new_cache):
                self.cache[cache_row.qbo_id] = cache_row
        if components:
            self.set_components(components)

    def create_records(self, entity, to_create, *, lookups, result):
        if not to_create:
            return
        self.write_cache(to_create)
        new_products = [
            (str(item.remote["Id"]), item.vals["product"])
            for item in to_create
            if item.vals["product"]
        ]
        product_by_qbo = {}
        if new_products:
            created_products = self.triage_records().create([vals for _q, vals in new_products])
            product_by_qbo = {
                qbo_id: product
                for (qbo_id, _v), product in zip(new_products, created_products, strict=True)
            }
        pairs = []
        for item in to_create:
            qbo_id = str(item.remote["Id"])
            record = self.cache[qbo_id]
            if qbo_id in product_by_qbo:
                # A product item is bound to its product, the others to their cache row.
                record.product_id = product_by_qbo[qbo_id]
                record = record.product_id
            pairs.append((item, record))
        self.bind(entity, pairs, result)
        result.count("created", len(to_create))

    def update_records(self, entity, to_update, *, lookups, result):
        self.write_cache(to_update)
        for item in to_update:
            if item.binding.res_model == "product.product":
                if item.vals["product"]:
                    item.record.write(item.vals["product"])
                # Items updated but bound before the cache knew their product.
                cache_row = self.cache[str(item.remote["Id"])]
                if not cache_row.product_id:
                    cache_row.product_id = item.binding.res_id
            item.binding._qbo_updated(item.remote, item.digest, voided=False, result=result)

    def page_done(self, entity, remotes, triaged, *, result):
        """The cache rows of deleted items are archived with their product."""
        deleted = [
            self.cache[str(r["Id"])].id
            for r in remotes
            if is_deleted(r) and str(r["Id"]) in self.cache
        ]
        if deleted:
            self.Model.browse(deleted).write({"active": False})

    def set_components(self, components):
        wanted = {c for lines in components.values() for c, _n, _q in lines}
        known = {
            item.qbo_id: item.id
            for item in self.Model.with_context(active_test=False).search(
                [("connection_id", "=", self.conn.id), ("qbo_id", "in", list(wanted))]
            )
        }
        for qbo_id, lines in components.items():
            self.cache[qbo_id].component_ids = [Command.clear()] + [
                Command.create(
                    {
                        "sequence": index,
                        "component_qbo_id": comp,
                        "component_id": known.get(comp, False),
                        "name": name,
                        "quantity": qty,
                    }
                )
                for index, (comp, name, qty) in enumerate(lines)
            ]
