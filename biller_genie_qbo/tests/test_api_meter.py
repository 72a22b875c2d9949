"""The billed-call meter (issue 17): every call of the clients counted by Intuit's class, per
connection and day, written with the run; compared with the emulator's own counters (which
count as Intuit meters); the page's month figures, forecast and allowance warnings; access."""

from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.biller_genie_qbo import const
from odoo.addons.biller_genie_qbo.models.qbo_api_usage import ACTIVITY_METER
from odoo.addons.biller_genie_qbo.tools import qbo_meter
from odoo.addons.biller_genie_qbo.tools.qbo_errors import QboError

from .common_push import QboPushCommon

QUIET = ("odoo.addons.biller_genie_qbo.sync", "odoo.addons.biller_genie_qbo.tools.qbo_client")


@tagged("post_install", "-at_install")
class TestApiMeter(QboPushCommon):
    def setUp(self):
        super().setUp()
        qbo_meter.discard(self.env.cr.dbname)
        self.control.metering(self.realm_id, reset=True)
        self.Usage = self.env["biller_genie_qbo.api.usage"].sudo()
        self.base = {}
        self.base = self.usage()  # the first import of QboPushCommon

    def usage(self, conn=None):
        rows = self.Usage.search([("connection_id", "=", (conn or self.connection).id)])
        return {cls: sum(rows.mapped(cls)) - self.base.get(cls, 0) for cls in qbo_meter.CLASSES}

    def emulator(self):
        return self.control.metering(self.realm_id)

    def test_classification(self):
        c = qbo_meter.call_class
        self.assertEqual(c("GET", "companyinfo/1", 200), "metered")
        self.assertEqual(c("GET", "invoice/12", 200), "metered")
        self.assertEqual(c("GET", "cdc?entities=Invoice", 200), "metered")
        self.assertEqual(c("POST", "query", 200), "metered")
        self.assertEqual(c("POST", "batch", 200), "metered", "a batch of writes is metered")
        self.assertEqual(c("POST", "invoice", 200), "free", "a write is free")
        self.assertEqual(c("POST", "payment?operation=update&include=void", 200), "free")
        self.assertEqual(c("POST", "query", 429), "failed", "a failed call is not billed")
        self.assertEqual(c("GET", "invoice/1", None), "failed")

    def test_meter_equals_the_emulators_counters(self):
        """A full import, an incremental sync, a push (free writes), a throttled call and a
        Fault inside a 200: the meter's metered and free calls are Intuit's (the emulator's)
        to the call."""
        self.connection.sudo().qbo_cursor = False
        self.assertRunOk(self.qbo_sync())
        after_import = self.usage()
        meter = self.emulator()
        self.assertGreater(meter["metered"], 10)
        self.assertEqual(after_import["metered"], meter["metered"])
        self.assertEqual(after_import["free"], meter["free"])

        # An incremental run, then a push of an invoice of a new customer (free creates).
        partner = self.env["res.partner"].create({"name": "Meter Test Customer"})
        invoice = self.make_invoice(partner=partner)
        self.control.fault("429", count=1, path_contains="cdc")
        with mute_logger(*QUIET):
            self.assertRunOk(self.qbo_sync())
            self.push()
        # A Fault inside a 200 is a failed call (not billed).
        self.control.fault("fault_200", count=1, path_contains="query")
        with self.assertRaises(QboError), mute_logger(*QUIET):
            self.conn._qbo_get_client().count("Customer")
        self.Usage._qbo_flush()
        meter = self.emulator()
        counted = self.usage()
        self.assertEqual(counted["metered"], meter["metered"], (counted, meter))
        self.assertEqual(counted["free"], meter["free"], (counted, meter))
        self.assertTrue(self.binding_of(partner) and self.binding_of(invoice), "both were sent")
        self.assertGreaterEqual(counted["failed"], 2, "the refused calls are counted, not billed")
        # One row per connection and day.
        rows = self.Usage.search([("connection_id", "=", self.connection.id)])
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows.day, datetime.utcnow().date())

    def test_counting_costs_no_query(self):
        """Calls are counted in memory: no SQL per call; the run writes them at once."""
        client = self.connection.sudo()._qbo_get_client()
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        for _n in range(5):
            client.count("Customer")
        self.assertEqual(self.env.cr.sql_log_count, before, "no query per call")
        self.assertEqual(self.usage()["metered"] + 5, self.emulator()["metered"])
        self.Usage._qbo_flush()
        self.assertEqual(self.usage()["metered"], self.emulator()["metered"])
        self.assertEqual(self.Usage._qbo_flush(), self.env["biller_genie_qbo.connection"])

    def test_rolled_back_counts_are_written_later(self):
        self.env.cr.postrollback.clear()  # (the flushes of the first import)
        qbo_meter.CallMeter((self.env.cr.dbname, self.connection.id)).count("metered", 3)
        self.env.cr.execute("SAVEPOINT meter_test")
        self.Usage._qbo_flush()
        self.assertEqual(self.usage()["metered"], 3)
        self.env.cr.execute("ROLLBACK TO SAVEPOINT meter_test")
        self.Usage.invalidate_model()
        # what a rollback of the run does (the postrollback hook of the flush)
        self.env.cr.postrollback.run()
        self.assertEqual(self.usage()["metered"], 0)
        self.Usage._qbo_flush()
        self.assertEqual(self.usage()["metered"], 3, "counted once, after all")

    def test_page_month_figures_and_forecast(self):
        conn = self.connection
        self.Usage.search([]).unlink()  # (the first import's calls)
        self.Usage.create(
            [
                {"connection_id": conn.id, "day": date(2026, 11, 30), "metered": 9999},
                {"connection_id": conn.id, "day": date(2026, 12, 1), "metered": 6000},
                {"connection_id": conn.id, "day": date(2026, 12, 10), "metered": 4000},
            ]
        )
        with freeze_time("2026-12-11 00:00:00"):
            conn.invalidate_recordset()
            self.assertEqual(conn.qbo_meter_metered, 10000, "this month only")
            # 10,000 in 10 days: 31,000 by the end of December
            self.assertEqual(conn.qbo_meter_forecast, 31000)
            self.assertAlmostEqual(conn.qbo_meter_share, 2.0)
            self.assertEqual(conn.qbo_meter_allowance, 500000)
            self.assertIn("10,000 metered calls this month", conn.qbo_meter_summary)
            self.assertIn("31,000", conn.qbo_meter_summary)
        # Connected on the 21st: the pace counts from the first call of the month.
        self.Usage.search([("connection_id", "=", conn.id)]).unlink()
        self.Usage.create({"connection_id": conn.id, "day": date(2026, 12, 21), "metered": 500})
        with freeze_time("2026-12-26 00:00:00"):
            conn.invalidate_recordset()
            self.assertEqual(conn.qbo_meter_forecast, 1100)  # 500 in 5 days, 6 days left
        with freeze_time("2027-01-02 00:00:00"):
            conn.invalidate_recordset()
            self.assertEqual((conn.qbo_meter_metered, conn.qbo_meter_forecast), (0, 0))

    def test_warning_activity_at_70_and_90_percent_once_each(self):
        self.env["ir.config_parameter"].sudo().set_param(const.PARAM_METER_ALLOWANCE, "1000")
        manager = new_test_user(
            self.env,
            "meter_manager",
            groups="base.group_user,biller_genie_qbo.group_qbo_manager",
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
        )
        conn = self.connection.sudo()
        meter = qbo_meter.CallMeter((self.env.cr.dbname, conn.id))
        self.Usage.search([]).unlink()  # (the first import's calls)

        # (the allowance is checked at every flush here, not every 10 minutes)
        self.patch(qbo_meter, "check_due", lambda database, seconds: True)

        def activities():
            return conn.activity_ids.filtered(
                lambda a: a.activity_type_id == self.env.ref(ACTIVITY_METER)
            )

        meter.count("metered", 690)
        self.Usage._qbo_flush()
        self.assertFalse(activities(), "69%: no warning")
        meter.count("metered", 10)
        self.Usage._qbo_flush()
        self.assertEqual(len(activities()), 1, "70%: a warning")
        self.assertIn("70%", activities().summary)
        self.assertTrue(activities().user_id.has_group("biller_genie_qbo.group_qbo_manager"))
        self.assertIn(manager.partner_id, conn.message_ids[:1].partner_ids, "managers told")
        meter.count("metered", 100)
        self.Usage._qbo_flush()
        self.assertEqual(len(activities()), 1, "once per level")
        meter.count("metered", 100)
        self.Usage._qbo_flush()
        self.assertEqual(len(activities()), 1, "90%: the warning of the higher level")
        self.assertIn("90%", activities().summary)
        meter.count("metered", 50)
        self.Usage._qbo_flush()
        self.assertIn("90%", activities().summary)
        self.assertTrue(conn.qbo_meter_warned.endswith(":90"))
        # The next month starts afresh.
        with freeze_time("2027-01-05 12:00:00"):
            activities().action_feedback()
            meter.count("metered", 700)
            self.Usage._qbo_flush()
            self.assertEqual(len(activities()), 1)
            self.assertIn("70%", activities().summary)

    def test_usage_is_read_only_and_per_company(self):
        qbo_user = new_test_user(
            self.env,
            "meter_qbo_user",
            groups="base.group_user,biller_genie_qbo.group_qbo_manager",
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
        )
        rows = self.Usage.search([("connection_id", "=", self.connection.id)]).with_user(qbo_user)
        self.assertTrue(rows.read(["metered"]))
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            rows.write({"metered": 0})
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            rows.unlink()
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            self.env["biller_genie_qbo.api.usage"].with_user(qbo_user).create(
                {"connection_id": self.connection.id, "day": date(2026, 1, 1)}
            )
        other = self.env["res.company"].create({"name": "Meter Other Co"})
        outsider = new_test_user(
            self.env,
            "meter_outsider",
            groups="base.group_user,biller_genie_qbo.group_qbo_manager",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        self.assertFalse(self.env["biller_genie_qbo.api.usage"].with_user(outsider).search([]))
