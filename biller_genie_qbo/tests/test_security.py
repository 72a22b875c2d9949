"""Credentials and tokens are for system administrators; each company sees its own page."""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user

from odoo.addons.biller_genie_qbo.tools.qbo_oauth import TokenSet


class TestSecurity(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "QBO Company B"})
        Connection = cls.env["biller_genie_qbo.connection"]
        cls.conn_a = Connection._qbo_get_or_create(cls.company_a)
        cls.conn_b = Connection._qbo_get_or_create(cls.company_b)
        cls.conn_a._qbo_store_tokens(TokenSet(access_token="tok-a", refresh_token="ref-a"))
        cls.accountant = new_test_user(
            cls.env, "qbo_accountant", groups="account.group_account_manager"
        )
        cls.manager = new_test_user(
            cls.env,
            "qbo_manager",
            groups="base.group_user,biller_genie_qbo.group_qbo_manager",
            company_ids=[Command.set(cls.company_a.ids)],
        )

    def test_user_without_group_cannot_open_page(self):
        Connection = self.env["biller_genie_qbo.connection"].with_user(self.accountant)
        with self.assertRaises(AccessError):
            Connection.action_open_page()
        with self.assertRaises(AccessError):
            self.conn_a.with_user(self.accountant).read(["state"])

    def test_tokens_are_for_system_administrators_only(self):
        for user in (self.accountant, self.manager):
            with self.assertRaises(AccessError):
                self.env["biller_genie_qbo.token"].with_user(user).search([])
            with self.assertRaises(AccessError):
                self.conn_a.with_user(user).read(["token_ids"])
            with self.assertRaises(AccessError):
                self.conn_a.with_user(user).read(["realm_id_encrypted"])
        self.assertEqual(self.conn_a._qbo_tokens().access_token, "tok-a")

    def test_credentials_are_for_system_administrators_only(self):
        self.env["ir.config_parameter"].sudo().set_param("biller_genie_qbo.client_secret", "s3cr3t")
        for user in (self.accountant, self.manager):
            with self.assertRaises(AccessError):
                self.env["ir.config_parameter"].with_user(user).search(
                    [("key", "=", "biller_genie_qbo.client_secret")]
                ).read(["value"])
            settings = self.env["res.config.settings"].with_user(user)
            self.assertNotIn("qbo_client_secret", settings.fields_get())

    def test_manager_sees_own_company_only(self):
        Connection = self.env["biller_genie_qbo.connection"].with_user(self.manager)
        self.assertEqual(Connection.search([]), self.conn_a)
        with self.assertRaises(AccessError):
            self.conn_b.with_user(self.manager).read(["state"])
        page = Connection.action_open_page()
        self.assertEqual(page["res_id"], self.conn_a.id)

    def test_system_administrators_are_managers(self):
        admin = self.env.ref("base.user_admin")
        self.assertTrue(admin.has_group("biller_genie_qbo.group_qbo_manager"))
        self.assertFalse(self.accountant.has_group("biller_genie_qbo.group_qbo_manager"))
