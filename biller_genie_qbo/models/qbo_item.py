"""Cache of the QuickBooks Online items of a connection, refreshed by every sync.

QBO Items -> the item cache (every item) and Odoo products (Service, NonInventory, Inventory);
Group items stay bundles: a cache row with its component lines.
"""

from odoo import Command, api, fields, models

from ..sync.common import PageResult
from .qbo_mapping import (
    dec,
    is_deleted,
    ref_name,
    ref_value,
)

CACHE_TYPES = {"Service", "NonInventory", "Inventory", "Group", "Category"}
# QBO item types imported as Odoo products.
PRODUCT_TYPES = {"Service", "NonInventory", "Inventory", "Other Charge"}


class QboItem(models.Model):
    _name = "biller_genie_qbo.item"
    _description = "QuickBooks Online Item"
    _order = "name, id"
    _check_company_auto = True

    connection_id = fields.Many2one(
        "biller_genie_qbo.connection", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="connection_id.company_id", store=True, index=True)
    qbo_id = fields.Char("QuickBooks ID", required=True)
    name = fields.Char(required=True)
    item_type = fields.Selection(
        [
            ("Service", "Service"),
            ("NonInventory", "Non-inventory"),
            ("Inventory", "Inventory"),
            ("Group", "Bundle"),
            ("Category", "Category"),
            ("Other", "Other"),
        ],
        string="Type",
        required=True,
        default="Service",
    )
    income_account_qbo_id = fields.Char("Income Account ID")
    income_account_name = fields.Char("Income Account")
    has_income_account = fields.Boolean(compute="_compute_has_income_account", store=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "qbo_id_uniq",
            "unique(connection_id, qbo_id)",
            "This QuickBooks item is in the cache already.",
        )
    ]

    @api.depends("income_account_qbo_id")
    def _compute_has_income_account(self):
        for item in self:
            item.has_income_account = bool(item.income_account_qbo_id)

    @api.depends("name", "income_account_name")
    def _compute_display_name(self):
        for item in self:
            if item.income_account_name:
                item.display_name = f"{item.name} ({item.income_account_name})"
            else:
                item.display_name = item.name

    description = fields.Text()
    unit_price = fields.Float(digits="Product Price")
    sku = fields.Char("SKU")
    taxable = fields.Boolean()
    product_id = fields.Many2one(
        "product.product", string="Odoo Product", ondelete="set null", index="btree_not_null"
    )
    component_ids = fields.One2many(
        "biller_genie_qbo.item.component", "group_id", string="Bundle Components"
    )

    @api.model
    def _qbo_values_from_remote(self, remote):
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

    @api.model
    def _qbo_component_values(self, remote):
        """[(component qbo id, name, quantity)] of a Group item (pure)."""
        detail = remote.get("ItemGroupDetail") or {}
        out = []
        for line in detail.get("ItemGroupLine") or []:
            ref = line.get("ItemRef") or {}
            if ref_value(ref):
                out.append((ref_value(ref), ref_name(ref) or "", float(dec(line.get("Qty"), 1))))
        return out

    # ------------------------------------------------------------------
    # Import (one page)
    # ------------------------------------------------------------------
    @api.model
    def _qbo_import_records(self, connection, entity, remotes, client):
        result = PageResult()
        Binding = self.env["biller_genie_qbo.binding"]
        Product = self.env["product.product"].with_context(active_test=False)
        force = self.env.context.get("qbo_force")
        ids = [str(r["Id"]) for r in remotes]
        cache = {
            item.qbo_id: item
            for item in self.with_context(active_test=False).search(
                [("connection_id", "=", connection.id), ("qbo_id", "in", ids)]
            )
        }
        bindings = Binding._qbo_fetch(connection, "Item", ids)
        products = Product.browse(
            [b.res_id for b in bindings.values() if b.res_model == "product.product"]
        )
        products.fetch(["name", "active"])
        new_cache, new_products, touched, components = [], [], [], {}
        for remote in remotes:
            qbo_id = str(remote["Id"])
            binding = bindings.get(qbo_id)
            item = cache.get(qbo_id)
            if is_deleted(remote):
                if item:
                    item.active = False
                if binding:
                    if binding.res_model == "product.product":
                        Product.browse(binding.res_id).active = False
                    binding.write({"state": "deleted", "sync_date": fields.Datetime.now()})
                result.count("cancelled")
                result.ok_ids.append(qbo_id)
                continue
            if (
                binding
                and item
                and not force
                and binding.state == "synced"
                and binding.qbo_sync_token == remote.get("SyncToken")
            ):
                result.count("unchanged")
                result.ok_ids.append(qbo_id)
                continue
            cache_vals = self._qbo_values_from_remote(remote)
            if item:
                item.write(cache_vals)
            else:
                new_cache.append(dict(cache_vals, connection_id=connection.id))
            if remote.get("Type") == "Group":
                components[qbo_id] = self._qbo_component_values(remote)
            product_vals = None
            if remote.get("Type") in PRODUCT_TYPES:
                product_vals = self.env["product.template"]._qbo_values_from_remote(remote)
                product_vals["company_id"] = connection.company_id.id
            if binding:
                if binding.res_model == "product.product" and product_vals:
                    Product.browse(binding.res_id).write(product_vals)
                binding.write(Binding._qbo_remote_vals(remote, state="synced", error=False))
                result.count("updated")
            else:
                if product_vals:
                    new_products.append((qbo_id, product_vals))
                touched.append((remote, bool(product_vals)))
                result.count("created")
            result.ok_ids.append(qbo_id)

        created = self.create(new_cache) if new_cache else self
        for item in created:
            cache[item.qbo_id] = item
        product_by_qbo = {}
        if new_products:
            created_products = Product.create([vals for _q, vals in new_products])
            product_by_qbo = {
                qbo_id: product
                for (qbo_id, _v), product in zip(new_products, created_products, strict=True)
            }
        binding_create = []
        for remote, has_product in touched:
            qbo_id = str(remote["Id"])
            record = cache[qbo_id]
            if has_product:
                # A product item is bound to its product, the others to their cache row.
                record.product_id = product_by_qbo[qbo_id]
                record = record.product_id
            binding_create.append(Binding._qbo_new_vals(connection, "Item", remote, record))
        Binding.create(binding_create)
        # Items updated but bound before the cache knew their product.
        for qbo_id, binding in bindings.items():
            if binding.res_model == "product.product" and qbo_id in cache:
                if not cache[qbo_id].product_id:
                    cache[qbo_id].product_id = binding.res_id
        if components:
            self._qbo_set_components(connection, cache, components)
        return result

    @api.model
    def _qbo_set_components(self, connection, cache, components):
        wanted = {c for lines in components.values() for c, _n, _q in lines}
        known = {
            item.qbo_id: item.id
            for item in self.with_context(active_test=False).search(
                [("connection_id", "=", connection.id), ("qbo_id", "in", list(wanted))]
            )
        }
        for qbo_id, lines in components.items():
            cache[qbo_id].component_ids = [Command.clear()] + [
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
