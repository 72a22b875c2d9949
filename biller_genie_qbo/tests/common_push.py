"""QboPushCommon: QboCommon plus a first full import (items, customers bound), and helpers to
create and post Odoo documents and to push them."""

from odoo import Command, fields

from .common import QboImportedCommon


class QboPushCommon(QboImportedCommon):
    """The demo company imported once per class (QboImportedCommon), its items and customers
    at hand, and helpers to make, post, pay and push Odoo documents."""

    def setUp(self):
        super().setUp()
        # The class's demo company, imported once: items and customers bound.
        self.conn = self.connection.sudo()
        Item = self.env["biller_genie_qbo.item"].sudo()
        self.items = {
            item.name: item for item in Item.search([("connection_id", "=", self.conn.id)])
        }
        self.product_services = self.items["Services"].product_id
        self.product_hardware = self.items["Hardware Kit"].product_id
        self.customer = self.bound_partner("Amy's Bird Sanctuary")

    def bound_partner(self, name, connection=None):
        conn = connection or self.conn
        binding = (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", conn.id),
                    ("qbo_entity", "=", "Customer"),
                    ("res_model", "=", "res.partner"),
                ]
            )
        )
        partners = self.env["res.partner"].browse(binding.mapped("res_id"))
        return partners.filtered(lambda p: p.name == name)[:1]

    # ------------------------------------------------------------------
    # Documents
    # ------------------------------------------------------------------
    def make_invoice(self, lines=None, partner=None, post=True, company=None, **vals):
        """``lines``: [(product, quantity, price, taxes)]."""
        company = company or self.env.company
        lines = lines or [(self.product_services, 2, 100.0, None)]
        move = (
            self.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": vals.pop("move_type", "out_invoice"),
                    "partner_id": (partner or self.customer).id,
                    "invoice_date": fields.Date.today(),
                    "company_id": company.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "quantity": qty,
                                "price_unit": price,
                                "tax_ids": [Command.set(taxes.ids if taxes else [])],
                            }
                        )
                        for product, qty, price, taxes in lines
                    ],
                    **vals,
                }
            )
        )
        if post:
            move.action_post()
        return move

    def pay(self, invoice, amount, **vals):
        """Register a payment on the invoice (the wizard a user clicks)."""
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"amount": amount, "payment_date": fields.Date.today(), **vals})
        )
        return wizard._create_payments()

    # ------------------------------------------------------------------
    # Pushes and QuickBooks state
    # ------------------------------------------------------------------
    def push(self, connection=None, allow_errors=False):
        run = (connection or self.conn)._qbo_run_push("button")
        self.assertTrue(run, "the push ran")
        self.assertRunOk(run, allow_errors=allow_errors)
        return run

    def binding_of(self, record, connection=None):
        return (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", (connection or self.conn).id),
                    ("res_model", "=", record._name),
                    ("res_id", "=", record.id),
                ]
            )
        )

    def qbo_of(self, record, connection=None, realm_id=None):
        """The QuickBooks entity bound to an Odoo record (as the emulator holds it)."""
        binding = self.binding_of(record, connection)
        self.assertTrue(binding, f"{record.display_name} is bound")
        return self.qbo_entity(binding.qbo_entity, binding.qbo_id, realm_id)

    def qbo_by_note(self, entity, record, realm_id=None):
        """QuickBooks entities whose private note names this Odoo record."""
        note = f"Odoo {record.name}"
        return [e for e in self.qbo_entities(entity, realm_id) if e.get("PrivateNote") == note]

    def set_qbo_prefs(self, realm_id=None, **prefs):
        """Change the QuickBooks company's preferences for one test (restored afterwards)."""
        realm = realm_id or self.realm_id
        current = self.control.entity(realm, "Preferences", "1")["SalesFormsPrefs"]
        restore = {"CustomTxnNumbers": current["CustomTxnNumbers"]}
        for group in current.get("CustomField") or []:
            for field in group.get("CustomField") or []:
                short = field["Name"].rsplit(".", 1)[-1]
                if short.startswith("UseSalesCustom"):
                    restore[short] = field["BooleanValue"]
                elif short.startswith("SalesCustomName"):
                    restore[short] = field["StringValue"]
        self.addCleanup(self.control.set_preferences, realm, **restore)
        self.control.set_preferences(realm, **prefs)

    @staticmethod
    def item_lines(remote):
        return [ln for ln in remote["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
