"""The webhook route through Odoo's real HTTP server, and the event processor, against the
emulator (which also sends real, signed webhooks to the route)."""

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from datetime import datetime, timedelta, timezone

from odoo import fields, sql_db
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, RecordCapturer, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.biller_genie_qbo import const

from .common import QboCommon, QboImportedCommon

WEBHOOK = const.WEBHOOK_PATH
VERIFIER = "odoo-test-verifier-token"
CONTROLLER = "odoo.addons.biller_genie_qbo.controllers.webhook"
EVENTS = "odoo.addons.biller_genie_qbo.models.qbo_webhook_event"
QUIET = (
    CONTROLLER,
    EVENTS,
    "odoo.addons.biller_genie_qbo.sync",
    "odoo.addons.biller_genie_qbo.tools.qbo_client",
)
# Intuit's own test vector (QuickBooks-V3-DotNET-SDK WebhooksServiceTest.cs + AppSettings.json).
INTUIT_TOKEN = "00faeec4-08d0-4996-bb37-698ae19f0149"
INTUIT_SIGNATURE = "6q+xGyMirJupwKTh2/WBl2NcdxzxqdIbk3sneKTxLWM="
INTUIT_REALM = "1269959970"


def sign(body, token=VERIFIER):
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


def ce_time(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


class WebhookCase(QboCommon, HttpCase):
    """The route and the processor against a fresh demo company: helpers, no test."""

    registry_test_mode = False  # QboCommon puts the registry in test mode already

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(const.PARAM_VERIFIER_TOKEN, VERIFIER)
        cls.cron = cls.env.ref("biller_genie_qbo.ir_cron_qbo_process_events")

    def setUp(self):
        super().setUp()
        customers = self.control.entities(self.realm_id, "Customer")
        active = [c for c in customers if c.get("Active", True) and not c.get("ParentRef")]
        self.customer_a, self.customer_b = active[0]["Id"], active[1]["Id"]

    def tearDown(self):
        self.control.webhooks(enabled=False)
        super().tearDown()

    # -- helpers --------------------------------------------------------------------------
    def post(self, body, signature=True, content_type="application/cloudevents+json", token=None):
        if isinstance(body, (list, dict)):
            body = json.dumps(body).encode()
        headers = {"Content-Type": content_type} if content_type else {}
        if signature is True:
            headers["intuit-signature"] = sign(body, token or VERIFIER)
        elif signature:
            headers["intuit-signature"] = signature
        response = self.url_open(WEBHOOK, data=body, headers=headers)
        self.env.invalidate_all()
        return response

    def cloudevent(self, entity_id, entity="customer", action="updated", when=None, **extra):
        event = {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
            "type": f"qbo.{entity}.{action}.v1",
            "datacontenttype": "application/json",
            "time": ce_time(when or datetime.now(timezone.utc)),
            "intuitentityid": str(entity_id),
            "intuitaccountid": self.realm_id,
            "data": {"alternative_ids": [{"id": str(entity_id), "namespace": "Intuit.sbseg.v4"}]},
        }
        event.update(extra)
        return event

    def legacy(self, *entities, realm=None):
        return {
            "eventNotifications": [
                {
                    "realmId": realm or self.realm_id,
                    "dataChangeEvent": {"entities": list(entities)},
                }
            ]
        }

    def events(self, connection=None):
        return (
            self.env["biller_genie_qbo.webhook.event"]
            .sudo()
            .search([("connection_id", "=", (connection or self.connection).id)])
        )

    def triggers(self):
        return RecordCapturer(self.env["ir.cron.trigger"].sudo(), [("cron_id", "=", self.cron.id)])

    def process(self):
        self.env["biller_genie_qbo.connection"].sudo()._cron_qbo_process_events()
        self.env.invalidate_all()

    def qbo_partner(self, qbo_id):
        return self.bound("Customer", qbo_id)


class WebhookImportedCase(WebhookCase, QboImportedCommon):
    """WebhookCase on the class's imported demo company (QboImportedCommon): everything
    QuickBooks has is in Odoo before the webhooks start. Helpers, no test."""


@tagged("post_install", "-at_install")
class TestWebhook(WebhookCase):
    # -- signatures -----------------------------------------------------------------------
    def test_valid_signature_stores_and_triggers_the_cron(self):
        with self.triggers() as capture:
            started = time.perf_counter()
            response = self.post([self.cloudevent(self.customer_a)])
            elapsed = time.perf_counter() - started
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok"})
        self.assertLess(elapsed, 3, "Intuit wants the answer within 3 seconds")
        event = self.events()
        self.assertEqual(len(event), 1)
        self.assertEqual(event.state, "pending")
        self.assertEqual(
            (event.entity, event.entity_id, event.operation),
            ("Customer", self.customer_a, "Update"),
        )
        self.assertEqual(event.company_id, self.connection.company_id)
        self.assertEqual(event.realm_id, self.realm_id)
        self.assertTrue(event.occurred_at and event.received_at)
        self.assertEqual(len(capture.records), 1, "the processing cron is triggered")

    def test_a_burst_of_deliveries_triggers_the_cron_once(self):
        with self.triggers() as capture:
            for qbo_id in (self.customer_a, self.customer_b, self.customer_a):
                self.assertEqual(self.post([self.cloudevent(qbo_id)]).status_code, 200)
        self.assertEqual(len(self.events()), 3)
        self.assertEqual(len(capture.records), 1, "one run for the burst, not one per delivery")

    @mute_logger(CONTROLLER)
    def test_wrong_signature_403_nothing_stored(self):
        body = json.dumps([self.cloudevent(self.customer_a)]).encode()
        with self.triggers() as capture:
            response = self.post(body, signature=sign(body, "another-token"))
        self.assertEqual(response.status_code, 403)
        # A signature of another body, a garbled one.
        self.assertEqual(self.post(body, signature=sign(b"[]")).status_code, 403)
        self.assertEqual(self.post(body, signature="not base64!").status_code, 403)
        self.assertFalse(self.events())
        self.assertFalse(capture.records)

    @mute_logger(CONTROLLER)
    def test_missing_signature_403(self):
        with self.assertLogs(CONTROLLER, "WARNING") as logs:
            response = self.post([self.cloudevent(self.customer_a)], signature=None)
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.events())
        self.assertNotIn(VERIFIER, "\n".join(logs.output), "the verifier is never logged")

    @mute_logger(CONTROLLER)
    def test_no_verifier_configured_403(self):
        self.env["ir.config_parameter"].sudo().set_param(const.PARAM_VERIFIER_TOKEN, False)
        response = self.post([self.cloudevent(self.customer_a)])
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.events())

    def test_intuit_test_vector(self):
        """Intuit's published body and signature pass through the route unchanged."""
        path = os.path.join(os.path.dirname(__file__), "data", "webhook_legacy_intuit_sdk.json")
        with open(path, "rb") as f:
            body = f.read()
        self.assertEqual(sign(body, INTUIT_TOKEN), INTUIT_SIGNATURE)
        self.env["ir.config_parameter"].sudo().set_param(const.PARAM_VERIFIER_TOKEN, INTUIT_TOKEN)
        company = self.env["res.company"].create({"name": "Intuit Vector Co"})
        other = self.env["biller_genie_qbo.connection"].sudo()._qbo_get_or_create(company)
        other.write({"state": "connected", "realm_id": INTUIT_REALM})
        response = self.post(body, signature=INTUIT_SIGNATURE, content_type="application/json")
        self.assertEqual(response.status_code, 200)
        events = self.events(other)
        self.assertEqual(
            sorted(events.mapped(lambda e: (e.entity, e.entity_id, e.operation, e.state))),
            [("Customer", "43", "Create", "pending"), ("Vendor", "40", "Update", "ignored")],
        )
        # One changed byte: refused.
        tampered = body.replace(b'"40"', b'"41"')
        with mute_logger(CONTROLLER):
            response = self.post(tampered, signature=INTUIT_SIGNATURE)
        self.assertEqual(response.status_code, 403)

    # -- formats --------------------------------------------------------------------------
    def test_legacy_format_and_its_deduplication(self):
        entity = {
            "name": "Customer",
            "id": self.customer_a,
            "operation": "Update",
            "lastUpdated": "2025-11-12T18:20:05.000Z",
        }
        merged = {
            "name": "Customer",
            "id": self.customer_b,
            "operation": "Merge",
            "lastUpdated": "2025-11-12T18:21:05.000Z",
            "deletedId": "9999",
        }
        body = self.legacy(entity, merged)
        self.assertEqual(self.post(body, content_type="application/json").status_code, 200)
        events = self.events()
        self.assertEqual(len(events), 2)
        merge = events.filtered(lambda e: e.operation == "Merge")
        self.assertEqual(merge.deleted_id, "9999")
        self.assertEqual(fields.Datetime.to_string(merge.occurred_at), "2025-11-12 18:21:05")
        # Intuit redelivers the same notification: nothing new.
        self.assertEqual(self.post(body, content_type="application/json").status_code, 200)
        self.assertEqual(len(self.events()), 2)
        # Same entity, another time: another event.
        entity["lastUpdated"] = "2025-11-12T18:30:05.000Z"
        self.post(self.legacy(entity), content_type="application/json; charset=utf-8")
        self.assertEqual(len(self.events()), 3)

    def test_cloudevents_content_types_nested_data_and_no_datacontenttype(self):
        nested = self.cloudevent(
            self.customer_a,
            data={"alternative_ids": [{"id": "1", "namespace": "x"}], "deep": {"a": [1, {}]}},
        )
        bare = self.cloudevent(self.customer_b, action="created")
        del bare["datacontenttype"]
        del bare["data"]
        for content_type, event in (
            ("application/cloudevents+json", nested),
            ("application/json", bare),
            ("application/cloudevents+json; charset=utf-8", self.cloudevent("5", "invoice")),
            ("application/json;charset=UTF-8", self.cloudevent("7", "payment", "deleted")),
        ):
            response = self.post([event], content_type=content_type)
            self.assertEqual(response.status_code, 200, content_type)
        events = self.events()
        self.assertEqual(
            sorted(events.mapped(lambda e: (e.entity, e.entity_id, e.operation))),
            sorted(
                [
                    ("Customer", self.customer_a, "Update"),
                    ("Customer", self.customer_b, "Create"),
                    ("Invoice", "5", "Update"),
                    ("Payment", "7", "Delete"),
                ]
            ),
        )
        self.assertEqual(set(events.mapped("state")), {"pending"})

    def test_duplicate_delivery_stores_one_row(self):
        event = self.cloudevent(self.customer_a)
        twin = dict(event)  # same CloudEvents id inside one delivery
        self.assertEqual(self.post([event, twin]).status_code, 200)
        with self.triggers() as capture:
            self.assertEqual(self.post([event]).status_code, 200)
        self.assertEqual(len(self.events()), 1)
        self.assertFalse(capture.records, "nothing new, no trigger")

    @mute_logger(CONTROLLER)
    def test_inbox_locked_503_then_redelivery_stored(self):
        """The inbox table locked by another transaction (maintenance, a twin delivery in
        flight): a 503 with Retry-After inside Intuit's 3 s, nothing half stored; Intuit's
        redelivery after the lock is gone is stored once."""
        event = self.cloudevent(self.customer_a)
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            # NOWAIT: fail at once rather than hang if this test's own transaction held a lock.
            other.execute("LOCK TABLE biller_genie_qbo_webhook_event IN SHARE MODE NOWAIT")
            with self.assertLogs(CONTROLLER, "ERROR"):
                started = time.perf_counter()
                response = self.post([event])
                elapsed = time.perf_counter() - started
        finally:
            other.rollback()
            other.close()
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.headers.get("Retry-After"), "60")
        self.assertLess(elapsed, 3, "Intuit stops waiting after 3 s")
        self.assertFalse(self.events())
        self.assertEqual(self.post([event]).status_code, 200)
        self.assertEqual(len(self.events()), 1)

    # -- routing --------------------------------------------------------------------------
    def test_auto_sync_off_records_ignored_events(self):
        self.connection.sudo().webhooks_auto_sync = "no"
        with self.triggers() as capture:
            response = self.post([self.cloudevent(self.customer_a)])
        self.assertEqual(response.status_code, 200)
        event = self.events()
        self.assertEqual(event.state, "ignored")
        self.assertFalse(capture.records, "nothing to process")

    @mute_logger(CONTROLLER, EVENTS)
    def test_unknown_realm_acknowledged(self):
        event = self.cloudevent(self.customer_a, intuitaccountid="123456789")
        with self.assertLogs(EVENTS, "WARNING") as logs:
            response = self.post([event])
        self.assertEqual(response.status_code, 200)
        output = "\n".join(logs.output)
        self.assertIn("no Odoo company is connected to", output)
        self.assertNotIn("123456789", output, "logs carry no realm id (issue 12)")
        self.assertFalse(self.env["biller_genie_qbo.webhook.event"].sudo().search([]))

    @mute_logger(CONTROLLER)
    def test_oversize_413(self):
        body = json.dumps([self.cloudevent(self.customer_a, pad="x" * (1024 * 1024))]).encode()
        response = self.post(body)
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self.events())

    @mute_logger(CONTROLLER)
    def test_chunked_body_without_length_411(self):
        """No Content-Length (chunked): refused before reading a body of unknown size."""
        body = json.dumps([self.cloudevent(self.customer_a)]).encode()
        headers = {"Content-Type": "application/json", "intuit-signature": sign(body)}
        chunks = (body[i : i + 64] for i in range(0, len(body), 64))
        response = self.url_open(WEBHOOK, data=chunks, headers=headers)
        self.assertEqual(response.status_code, 411)
        self.env.invalidate_all()
        self.assertFalse(self.events())

    def test_malformed_but_well_signed_is_acknowledged(self):
        for body in (b"{not json", b"[]x", json.dumps([{"id": "1", "type": "nope"}]).encode()):
            with self.assertLogs(CONTROLLER, "WARNING"):
                response = self.post(body)
            self.assertEqual(response.status_code, 200, "Intuit must not retry it forever")
        with self.assertLogs(CONTROLLER, "WARNING"):
            response = self.post([self.cloudevent("1")], content_type="text/plain")
        self.assertEqual(response.status_code, 200)
        self.assertFalse(self.events())

    @mute_logger(CONTROLLER)
    def test_get_is_not_allowed(self):
        response = self.url_open(WEBHOOK)
        self.assertEqual(response.status_code, 405)

    def test_the_inbox_is_for_system_administrators_only(self):
        self.post([self.cloudevent(self.customer_a)])
        manager = new_test_user(
            self.env,
            "qbo_manager_only",
            groups="base.group_user,biller_genie_qbo.group_qbo_manager",
            company_id=self.connection.company_id.id,
        )
        events = self.env["biller_genie_qbo.webhook.event"].with_user(manager)
        with self.assertRaises(AccessError):
            events.search([])
        self.assertEqual(len(events.sudo().search([])), 1)

    # -- end to end (from the imported company: TestWebhookAfterImport) -------------------
    @mute_logger(*QUIET)
    def test_failed_processing_keeps_events_then_gives_up(self):
        self.post([self.cloudevent(self.customer_a)])
        event = self.events()
        self.control.fault("500", count=1000, path_contains="/v3/")
        for attempt in range(1, 6):
            self.process()
            self.assertEqual(event.attempts, attempt)
            self.assertEqual(event.state, "pending" if attempt < 5 else "failed")
            self.assertTrue(event.error)
        self.control.clear_faults()
        self.assertEqual(self.connection.last_sync_result, "failed")


@tagged("post_install", "-at_install")
class TestWebhookAfterImport(WebhookImportedCase):
    # -- end to end -----------------------------------------------------------------------
    def _emulator_sends_to_odoo(self, fmt):
        self.control.webhooks(
            url=f"{self.base_url()}{WEBHOOK}",
            format=fmt,
            verifier_token=VERIFIER,
            aggregation_seconds=0.05,
            enabled=True,
        )
        self.env.flush_all()

    def _wait_deliveries(self, count):
        self.assertTrue(self.control.flush_webhooks(timeout=10), "the emulator delivered")
        deliveries = self.control.deliveries()
        self.assertGreaterEqual(len(deliveries), count)
        self.assertTrue(all(d["status"] == 200 for d in deliveries), deliveries)
        self.env.invalidate_all()
        return deliveries

    @mute_logger(*QUIET)
    def test_emulator_webhooks_reach_the_odoo_record(self):
        for fmt, name in (("cloudevents", "Renamed by CloudEvents"), ("legacy", "Renamed Legacy")):
            self._emulator_sends_to_odoo(fmt)
            self.qbo_edit("Customer", self.customer_a, DisplayName=name)
            self._wait_deliveries(1)
            events = self.events().filtered(lambda e: e.state == "pending")
            self.assertEqual(len(events), 1, fmt)
            self.assertNotEqual(self.qbo_partner(self.customer_a).name, name, "nothing applied yet")
            self.process()
            self.assertEqual(self.qbo_partner(self.customer_a).name, name, fmt)
            self.assertEqual(events.state, "done")
            run = self.connection.sync_run_ids[:1]
            self.assertEqual((run.trigger, run.mode, run.state), ("webhook", "ids", "success"))
            self.assertEqual(run.catchup_recovered, 0, "the webhook announced everything")
            self.control.webhooks(enabled=False)
        self.assertEqual(self.connection.last_sync_result, "success")

    @mute_logger(*QUIET)
    def test_auto_sync_off_waits_for_the_polling_sync(self):
        self.connection.sudo().webhooks_auto_sync = "no"
        self._emulator_sends_to_odoo("cloudevents")
        self.qbo_edit("Customer", self.customer_a, DisplayName="Polled Later")
        self._wait_deliveries(1)
        self.assertEqual(self.events().state, "ignored")
        self.process()
        self.assertNotEqual(self.qbo_partner(self.customer_a).name, "Polled Later")
        self.qbo_sync(trigger="cron")
        self.env.invalidate_all()
        self.assertEqual(self.qbo_partner(self.customer_a).name, "Polled Later")

    @mute_logger(*QUIET)
    def test_coalescing_and_repeated_events(self):
        self.qbo_edit("Customer", self.customer_a, DisplayName="Coalesced")
        now = datetime.now(timezone.utc)
        events = [self.cloudevent(self.customer_a, when=now - timedelta(seconds=s)) for s in (3, 2)]
        self.post(events)
        self.post([self.cloudevent(self.customer_a, when=now)])
        self.assertEqual(len(self.events()), 3)
        self.control.reset_counters()
        self.process()
        self.assertEqual(self.qbo_partner(self.customer_a).name, "Coalesced")
        self.assertEqual(set(self.events().mapped("state")), {"done"})
        by_endpoint = self.control.counters()["by_endpoint"]
        queries = sum(n for key, n in by_endpoint.items() if "query" in key.lower())
        self.assertEqual(queries, 1, f"one Id IN (...) read for three events: {by_endpoint}")

    @mute_logger(*QUIET)
    def test_out_of_order_events_never_downgrade(self):
        partner = self.qbo_partner(self.customer_a)
        binding = (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", self.connection.id),
                    ("qbo_entity", "=", "Customer"),
                    ("qbo_id", "=", self.customer_a),
                ]
            )
        )
        # Newer event first, then an older one: both re-read the current version.
        self.qbo_edit("Customer", self.customer_a, DisplayName="Version Two")
        now = datetime.now(timezone.utc)
        self.post([self.cloudevent(self.customer_a, when=now)])
        self.process()
        self.assertEqual(partner.name, "Version Two")
        self.post([self.cloudevent(self.customer_a, when=now - timedelta(minutes=10))])
        self.process()
        self.assertEqual(partner.name, "Version Two")

        # Odoo holds a newer version than what QuickBooks answers (a lagging read): the older
        # version is not applied over it.
        self.qbo_edit("Customer", self.customer_a, DisplayName="Stale Read")
        binding.qbo_last_updated = fields.Datetime.now() + timedelta(hours=1)
        self.post([self.cloudevent(self.customer_a)])
        self.process()
        self.assertEqual(partner.name, "Version Two", "never an older version over a newer one")
        self.assertEqual(self.events()[:1].state, "done")

    @mute_logger(*QUIET)
    def test_catch_up_recovers_missed_webhooks(self):
        # Customer B changes without a webhook (lost delivery); a webhook arrives for A.
        self.qbo_edit("Customer", self.customer_b, DisplayName="Missed Webhook")
        self.qbo_edit("Customer", self.customer_a, DisplayName="Announced")
        self.post([self.cloudevent(self.customer_a)])
        self.process()
        self.assertEqual(self.qbo_partner(self.customer_a).name, "Announced")
        self.assertEqual(self.qbo_partner(self.customer_b).name, "Missed Webhook")
        run = self.connection.sync_run_ids[:1]
        self.assertEqual(run.trigger, "webhook")
        self.assertEqual(run.catchup_recovered, 1)

    @mute_logger(*QUIET)
    def test_deleted_invoice_event(self):
        invoice = self.control.entities(self.realm_id, "Invoice")[0]
        move = self.bound("Invoice", invoice["Id"])
        self.assertTrue(move)
        self.control.delete_entity(self.realm_id, "Invoice", invoice["Id"])
        self.post([self.cloudevent(invoice["Id"], "invoice", "deleted")])
        self.process()
        self.assertEqual(self.events().state, "done")
        binding = (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", self.connection.id),
                    ("qbo_entity", "=", "Invoice"),
                    ("qbo_id", "=", invoice["Id"]),
                ]
            )
        )
        self.assertEqual(binding.state, "deleted")
