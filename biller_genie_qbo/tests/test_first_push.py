"""Safe first contact, outbound (issue 17): a read-only connection pulls and never writes; the
first push is previewed ("would create N customers, M invoices, K payments; X matched") and
sends nothing until a manager confirms."""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common_push import QboPushCommon


@tagged("post_install", "-at_install")
class TestFirstPush(QboPushCommon):
    def qbo_count(self, entity):
        return len(self.qbo_entities(entity))

    def test_read_only_pulls_and_never_writes(self):
        self.conn.qbo_read_only = True
        invoice = self.make_invoice()
        self.assertIn("Read-only", self.conn.qbo_push_preview)
        self.assertFalse(self.conn._qbo_push_has_work())
        self.control.metering(self.realm_id, reset=True)
        invoices = self.qbo_count("Invoice")
        self.conn._qbo_run_push("button")
        self.env["biller_genie_qbo.connection"]._cron_qbo_push()
        meter = self.control.metering(self.realm_id)
        self.assertEqual((meter["metered"], meter["free"]), (0, 0), "no call at all")
        self.assertEqual(self.qbo_count("Invoice"), invoices)
        self.assertFalse(self.binding_of(invoice))
        # The pull goes on.
        customer = self.qbo_entities("Customer")[0]
        self.qbo_edit("Customer", customer["Id"], DisplayName="Read Only Still Pulls")
        self.assertRunOk(self.qbo_sync(trigger="cron"))
        self.assertEqual(self.bound("Customer", customer["Id"]).name, "Read Only Still Pulls")
        self.assertEqual(self.qbo_count("Invoice"), invoices)
        # Read-only off: what waited is sent.
        self.conn.qbo_read_only = False
        self.push()
        self.assertTrue(self.binding_of(invoice))

    def test_the_first_push_is_previewed_and_confirmed(self):
        conn = self.conn
        conn.qbo_push_confirmed_at = False
        new_customer = self.env["res.partner"].create({"name": "First Push New Customer"})
        inv_new = self.make_invoice(partner=new_customer)
        inv_known = self.make_invoice()  # a customer bound by the first import
        self.pay(inv_known, inv_known.amount_total)
        conn.invalidate_recordset()
        preview = conn.qbo_push_preview
        self.assertIn(
            "would create 1 customers, 2 invoices, 0 credit notes and 1 payments; 1 customers "
            "are matched to existing QuickBooks customers",
            preview,
        )
        # Nothing is sent, nothing is read, before the confirmation.
        self.control.metering(self.realm_id, reset=True)
        invoices = self.qbo_count("Invoice")
        self.assertFalse(conn._qbo_push_has_work())
        conn._qbo_run_push("button")
        self.env["biller_genie_qbo.connection"]._cron_qbo_push()
        self.assertRunOk(self.qbo_sync(trigger="cron"))
        meter = self.control.metering(self.realm_id)
        self.assertEqual(meter["free"], 0)
        self.assertNotIn("metered POST batch", meter["by_endpoint"])
        self.assertEqual(self.qbo_count("Invoice"), invoices)
        # Only a QuickBooks manager of the company confirms.
        accountant = new_test_user(
            self.env,
            "first_push_user",
            groups="base.group_user,account.group_account_invoice,biller_genie_qbo.group_qbo_user",
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
        )
        Connection = self.env["biller_genie_qbo.connection"].with_context(
            allowed_company_ids=self.env.company.ids
        )
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            Connection.with_user(accountant).browse(conn.id).action_qbo_confirm_push()
        self.assertFalse(conn.qbo_push_confirmed_at)
        manager = new_test_user(
            self.env,
            "first_push_manager",
            groups="base.group_user,account.group_account_manager,"
            "biller_genie_qbo.group_qbo_manager",
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
        )
        Connection.with_user(manager).browse(conn.id).action_qbo_confirm_push()
        self.assertTrue(conn.qbo_push_confirmed_at)
        self.assertFalse(conn.qbo_push_preview)
        self.push()
        self.assertEqual(self.qbo_count("Invoice"), invoices + 2)
        self.assertTrue(self.binding_of(new_customer) and self.binding_of(inv_new))
        self.assertEqual(
            self.qbo_of(inv_known)["CustomerRef"]["value"], self.binding_of(self.customer).qbo_id
        )
