"""A QuickBooks company that keeps its books in another currency than the Odoo company (issue
18): a Canadian QuickBooks company (CAD) connected to a US Odoo company (USD). Every QuickBooks
amount is in CAD or converted to CAD; booked as dollars each would be wrong. Nothing is synced,
either way, and the page and every run say why and what to do; the same QuickBooks company
connected to an Odoo company in CAD syncs."""

from urllib.parse import parse_qs, urlparse

import requests

from odoo import Command, fields
from odoo.tests import tagged

from .common import QboCommon


@tagged("post_install", "-at_install")
class TestSyncHomeCurrency(QboCommon):
    emulator_seed = "ca"

    def connect_for_real(self, connection, realm_id):
        """Connect as the OAuth callback does (company info and preferences read)."""
        self.control.consent(realm_id=realm_id)
        url = connection.sudo()._qbo_oauth().authorization_url("state")
        answer = requests.get(url, allow_redirects=False, timeout=10)
        code = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
        self.assertIsNone(connection._qbo_complete_connect(code, realm_id, None))
        connection.invalidate_recordset()

    def assert_refused(self, run, conn):
        self.assertEqual(run.state, "failed")
        self.assertIn("keeps its books in CAD", run.message)
        self.assertEqual(run.message, conn.qbo_currency_problem)

    def test_nothing_is_synced_while_the_currencies_differ(self):
        conn = self.connection
        self.connect_for_real(conn, self.realm_id)
        self.assertEqual(conn.state, "connected")
        self.assertEqual(conn.sudo().qbo_home_currency, "CAD")
        problem = conn.qbo_currency_problem
        self.assertIn("keeps its books in CAD", problem)
        self.assertIn(f"the Odoo company {self.env.company.name} in USD", problem)
        self.assertIn("nothing is synced", problem)
        self.assertIn("Settings > Companies", problem, "what to do")

        # An Odoo invoice that would be sent, and QuickBooks' documents that would come in.
        partner = self.env["res.partner"].create({"name": "Yukon Yarns"})
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": fields.Date.today(),
                "invoice_line_ids": [Command.create({"name": "Fee", "price_unit": 100.0})],
            }
        )
        invoice.action_post()
        qbo_invoices = self.qbo_entities("Invoice")
        qbo_customers = self.qbo_entities("Customer")
        self.assertTrue(qbo_invoices)
        moves_before = self.env["account.move"].search_count([])

        # The Sync button: refused with the page's message, nothing read into Odoo or sent.
        run = self.qbo_sync()
        self.assert_refused(run, conn)
        self.assertEqual(conn.last_sync_result, "failed")
        self.assertEqual(conn.last_sync_message, problem)
        self.assertEqual(self.binding_count(), 0)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Rideau Canal Cafe")]))
        self.assertEqual(len(self.qbo_entities("Invoice")), len(qbo_invoices))
        self.assertEqual(len(self.qbo_entities("Customer")), len(qbo_customers))
        self.assertNotEqual(invoice.qbo_push_state, "done")
        # The push alone, a re-read of named records (Retry, webhooks): refused the same way.
        self.assert_refused(conn.sudo()._qbo_run_push("button"), conn)
        self.assert_refused(conn.sudo()._qbo_sync_ids({"Invoice": [qbo_invoices[0]["Id"]]}), conn)
        self.assertEqual(self.binding_count(), 0)
        self.assertEqual(len(self.qbo_entities("Invoice")), len(qbo_invoices))

        # A connection made before the currency was kept: the next sync reads it, and stops.
        conn.sudo().qbo_home_currency = False
        self.assertFalse(conn.qbo_currency_problem)
        self.assert_refused(self.qbo_sync(), conn)
        self.assertEqual(conn.sudo().qbo_home_currency, "CAD")
        self.assertEqual(self.binding_count(), 0)
        # ... on a polling tick too (changes since a cursor).
        conn.sudo().write(
            {"qbo_home_currency": False, "qbo_cursor": fields.Datetime.now(), "qbo_scan": False}
        )
        self.qbo_edit("Invoice", qbo_invoices[0]["Id"], PrivateNote="changed in QuickBooks")
        self.assert_refused(self.qbo_sync(trigger="cron"), conn)
        self.assertEqual(self.binding_count(), 0)

    def test_the_same_company_syncs_with_an_odoo_company_in_its_currency(self):
        cad = self.env.ref("base.CAD")
        cad.active = True
        company = self.setup_other_company(name="Maple Books", currency_id=cad.id)["company"]
        self.env.user.company_ids |= company
        realm = self.control.create_realm(seed="ca", invoices=6, payments=2)
        conn = self._qbo_connect(company, realm)
        self.connect_for_real(conn, realm)
        self.assertEqual(conn.sudo().qbo_home_currency, "CAD")
        self.assertFalse(conn.qbo_currency_problem)
        run = self.qbo_sync(connection=conn)
        self.assertRunOk(run)
        self.assertGreater(self.assertQboTotals("Invoice", realm_id=realm, connection=conn), 0)
        for remote in self.qbo_entities("Invoice", realm):
            move = self.bound("Invoice", remote["Id"], conn)
            self.assertEqual(move.currency_id, cad)
            self.assertEqual(move.company_id, company)
