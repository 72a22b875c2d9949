"""A company reconnected to ANOTHER QuickBooks company: QuickBooks ids are per company, so the
import position, the cursor, the bindings and the caches of the previous company never apply
to the new one (its Customer 1 is not the previous company's Customer 1); reconnected to the
same company, nothing is forgotten."""

from urllib.parse import parse_qs, urlparse

import requests

from odoo import sql_db
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.biller_genie_qbo.sync import ADVISORY_LOCK_KEY

from .common import QboCommon, QboImportedCommon


class RealmChangeCase(QboCommon):
    """Reconnecting, and another company to reconnect to: helpers, no test."""

    def connect_to(self, realm_id):
        """Connect to QuickBooks again (Intuit's consent, the callback's code exchange)."""
        self.control.consent(realm_id=realm_id)
        oauth = self.connection.sudo()._qbo_oauth()
        answer = requests.get(oauth.authorization_url("state"), allow_redirects=False, timeout=10)
        code = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
        return self.connection._qbo_complete_connect(code, realm_id, None)

    def other_realm(self):
        """Another company: 5 customers, 3 items, 12 invoices, ids overlapping the demo's."""
        realm_id = self.control.create_realm(seed="none", company_name="Other Books")
        self.control.generate(realm_id, customers=5, items=3, invoices=12, seed=5)
        return realm_id

    def partner_of(self, qbo_id):
        return self.bound("Customer", qbo_id)


@tagged("post_install", "-at_install")
class TestRealmChange(RealmChangeCase):
    def test_an_import_in_progress_is_not_continued_in_another_company(self):
        conn = self.connection.sudo()
        first = conn.with_context(qbo_page_size=8, qbo_slice_pages=3)._qbo_run_sync("button")
        self.assertEqual(first.state, "running")
        self.assertTrue(conn.qbo_scan)
        other = self.other_realm()
        self.assertFalse(self.connect_to(other))
        conn.invalidate_recordset()
        self.assertFalse(conn.qbo_scan, "the previous company's position is not the new one's")
        self.assertEqual(first.state, "interrupted")
        self.assertIn("another QuickBooks company", first.message)
        run = self.qbo_sync()
        self.assertRunOk(run)
        items = len(self.qbo_entities("Item", other))
        self.assertEqual(run.entity_counts["Item"].get("created"), items, "from the first page")
        self.assertEqual(self.binding_count("Item"), items)


@tagged("post_install", "-at_install")
class TestRealmChangeAfterImport(RealmChangeCase, QboImportedCommon):
    """From the class's imported demo company (QboImportedCommon)."""

    def test_another_company_starts_over_and_leaves_the_previous_records_alone(self):
        conn = self.connection.sudo()
        other = self.other_realm()
        shared = {c["Id"] for c in self.qbo_entities("Customer")} & {
            c["Id"] for c in self.qbo_entities("Customer", other)
        }
        self.assertTrue(shared, "the two companies have customers of the same ids")
        qbo_id = sorted(shared, key=int)[0]
        previous = self.partner_of(qbo_id)
        name = previous.name
        self.assertTrue(conn.qbo_cursor)
        self.assertGreater(self.binding_count(), 100)

        self.assertFalse(self.connect_to(other))
        conn.invalidate_recordset()
        self.assertEqual(conn.realm_id, other)
        self.assertFalse(conn.qbo_cursor, "the previous company's cursor is not the new one's")
        self.assertFalse(conn.qbo_scan)
        self.assertEqual(self.binding_count(), 0, "no binding of the previous company")
        self.assertFalse(
            self.env["biller_genie_qbo.item"].search([("connection_id", "=", conn.id)])
        )
        notes = " ".join(conn.message_ids[:2].mapped("body"))
        self.assertIn("Connected to another QuickBooks Online company", notes)
        self.assertIn("Connected to QuickBooks Online company Other Books", notes)

        self.control.reset_counters()
        run = self.qbo_sync()
        self.assertRunOk(run)
        self.assertEqual(run.mode, "full", "a first import of the new company")
        self.assertEqual(run.entity_counts["Customer"].get("created"), 5)
        self.assertEqual(run.entity_counts["Invoice"].get("created"), 12)
        self.assertEqual(self.binding_count("Invoice"), 12)
        self.assertEqual(previous.name, name, "the previous company's customer is left alone")
        remote = self.qbo_entity("Customer", qbo_id, other)
        self.assertNotEqual(self.partner_of(qbo_id), previous)
        self.assertEqual(self.partner_of(qbo_id).name, remote["DisplayName"])
        self.assertEqual(self.assertQboTotals("Invoice", other), 12)

    def test_the_same_company_again_keeps_everything(self):
        conn = self.connection.sudo()
        cursor, bindings = conn.qbo_cursor, self.binding_count()
        self.assertFalse(self.connect_to(self.realm_id))
        conn.invalidate_recordset()
        self.assertEqual(conn.qbo_cursor, cursor)
        self.assertEqual(self.binding_count(), bindings)
        run = self.qbo_sync()
        self.assertEqual(run.mode, "cdc", "changes since the cursor, no new import")

    @mute_logger("odoo.addons.biller_genie_qbo")
    def test_not_while_a_sync_of_the_company_runs(self):
        conn = self.connection.sudo()
        bindings = self.binding_count()
        other = self.other_realm()
        worker = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            worker.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_LOCK_KEY, conn.id])
            message = self.connect_to(other)
        finally:
            worker.execute("SELECT pg_advisory_unlock_all()")
            worker.close()
        self.assertIn("is running", message)
        conn.invalidate_recordset()
        self.assertEqual(conn.realm_id, self.realm_id, "still the previous company")
        self.assertEqual(self.binding_count(), bindings)
        self.assertTrue(conn.qbo_cursor)
