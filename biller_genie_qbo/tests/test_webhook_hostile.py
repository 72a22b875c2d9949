"""Webhooks as an attacker (or a buggy sender) would deliver them: a webhook is a hint and
QuickBooks is the truth; a bad event harms nothing but itself; the route never answers a 5xx
to a well-formed request and never stores anything unsigned."""

import json
import logging
import random
import socket
import string

from odoo.tests import tagged
from odoo.tools import config, mute_logger

from .test_webhook import QUIET, WEBHOOK, WebhookCase, WebhookImportedCase, sign


@tagged("post_install", "-at_install")
class TestWebhookHostileAfterImport(WebhookImportedCase):
    # -- a webhook is a hint --------------------------------------------------------------
    @mute_logger(*QUIET)
    def test_delete_of_an_invoice_quickbooks_still_has_changes_nothing(self):
        remote = next(i for i in self.qbo_entities("Invoice") if float(i["TotalAmt"]))
        invoice = self.bound("Invoice", remote["Id"])
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(
            self.post([self.cloudevent(remote["Id"], "invoice", "deleted")]).status_code, 200
        )
        self.process()
        self.assertEqual(invoice.state, "posted", "QuickBooks still has it: nothing cancelled")
        event = self.events()
        self.assertEqual(event.state, "contradicted")
        self.assertIn("still has", event.error)
        # The same delete once QuickBooks really deleted it: applied (confirmed by CDC).
        self.control.delete_entity(self.realm_id, "Invoice", remote["Id"])
        self.post([self.cloudevent(remote["Id"], "invoice", "deleted")])
        self.process()
        self.assertEqual(invoice.state, "cancel")

    @mute_logger(*QUIET)
    def test_void_and_merge_claims_are_checked_too(self):
        remote = next(i for i in self.qbo_entities("Invoice") if float(i["TotalAmt"]))
        invoice = self.bound("Invoice", remote["Id"])
        partner = self.bound("Customer", self.customer_b)
        merge = {
            "name": "Customer",
            "id": self.customer_a,
            "operation": "Merge",
            "deletedId": self.customer_b,
            "lastUpdated": "2030-01-01T00:00:00Z",
        }
        void = {
            "name": "Invoice",
            "id": remote["Id"],
            "operation": "Void",
            "lastUpdated": "2030-01-01T00:00:00Z",
        }
        self.post(self.legacy(merge, void), content_type="application/json")
        self.process()
        self.assertEqual(invoice.state, "posted", "not voided in QuickBooks: not cancelled")
        self.assertTrue(partner.active, "not merged away in QuickBooks: not archived")
        self.assertEqual(set(self.events().mapped("state")), {"contradicted"})

    # -- one bad event harms nothing but itself -------------------------------------------
    @mute_logger(*QUIET)
    def test_unreadable_event_does_not_block_the_good_one(self):
        self.qbo_edit("Customer", self.customer_a, CompanyName="Changed by QuickBooks")
        self.qbo_edit("Customer", self.customer_a, DisplayName="Renamed by QuickBooks")
        bad = self.cloudevent("42; DROP TABLE", "customer", "updated")
        garbled = {"id": "x-1", "type": "qbo.customer.updated.v1", "intuitaccountid": self.realm_id}
        good = self.cloudevent(self.customer_a)
        response = self.post([bad, garbled, good])
        self.assertEqual(response.status_code, 200)
        events = self.events()
        self.assertEqual(sorted(events.mapped("state")), ["pending", "rejected", "rejected"])
        self.process()
        self.assertEqual(self.qbo_partner(self.customer_a).name, "Renamed by QuickBooks")
        self.assertEqual(sorted(self.events().mapped("state")), ["done", "rejected", "rejected"])


@tagged("post_install", "-at_install")
class TestWebhookHostile(WebhookCase):
    # -- one bad event harms nothing but itself (continued) -------------------------------
    @mute_logger(*QUIET)
    def test_nul_and_lone_surrogate_are_refused_per_event_with_200(self):
        good = self.cloudevent(self.customer_a)
        for poison in ("\x00", "\ud800"):
            event = self.cloudevent(self.customer_b, source=f"intuit.{poison}evil")
            body = json.dumps([event, good]).encode()  # \u0000 / \ud800 escapes: valid JSON
            for _attempt in range(2):  # Intuit redelivers: the same answer every time
                response = self.post(body)
                self.assertEqual(response.status_code, 200, response.text)
        events = self.events()
        rejected = events.filtered(lambda e: e.state == "rejected")
        self.assertEqual(len(rejected), 2, "one per poisoned event, stored once")
        self.assertTrue(all("NUL" in e.error for e in rejected))
        self.assertEqual(len(events.filtered(lambda e: e.state == "pending")), 1)

    @mute_logger(*QUIET)
    def test_a_time_out_of_range_rejects_its_event_only(self):
        good = self.cloudevent(self.customer_a)
        for when in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
            bad = self.cloudevent(self.customer_b, time=when)
            self.assertEqual(self.post([bad, good]).status_code, 200, when)
        states = sorted(self.events().mapped("state"))
        self.assertEqual(states, ["pending", "rejected", "rejected"])

    def test_a_body_shorter_than_its_length_is_refused_quietly(self):
        """A sender that announces more bytes than it sends (and hangs up) gets a 400, not a
        503 with a traceback in the log."""
        body = json.dumps([self.cloudevent(self.customer_a)]).encode()
        head = (
            f"POST {WEBHOOK} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/cloudevents+json\r\n"
            f"intuit-signature: {sign(body)}\r\nContent-Length: {len(body) + 50}\r\n"
            "Connection: close\r\n\r\n"
        )
        webhook_logger = "odoo.addons.biller_genie_qbo.controllers.webhook"
        with self.assertLogs(webhook_logger, "WARNING") as logs:
            port = int(config["http_port"])
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(head.encode() + body)
                sock.shutdown(socket.SHUT_WR)
                answer = b"".join(iter(lambda: sock.recv(4096), b""))
        self.assertIn(b" 400 ", answer.split(b"\r\n")[0], answer[:200])
        self.assertFalse([r for r in logs.records if r.levelno >= logging.ERROR], logs.output)
        self.assertFalse(self.events(), "nothing stored")

    def test_event_ids_are_deduplicated_on_the_whole_id(self):
        prefix = "e" * 255
        first = self.cloudevent(self.customer_a, id=prefix + "-1")
        second = self.cloudevent(self.customer_b, id=prefix + "-2")
        self.assertEqual(self.post([first, second]).status_code, 200)
        self.assertEqual(self.post([first]).status_code, 200)  # a redelivery adds nothing
        self.assertEqual(len(self.events()), 2, "two events, not one")

    @mute_logger(*QUIET)
    def test_only_post_reaches_the_route(self):
        body = json.dumps([self.cloudevent(self.customer_a)]).encode()
        headers = {"intuit-signature": sign(body), "Content-Type": "application/json"}
        for method in ("OPTIONS", "PUT", "GET"):
            response = self.opener.request(
                method, self.base_url() + WEBHOOK, data=body, headers=headers, timeout=10
            )
            self.assertIn(response.status_code, (404, 405), method)
        self.assertFalse(self.events(), "nothing stored")

    # -- bounded fuzz ---------------------------------------------------------------------
    @mute_logger(*QUIET)
    def test_fuzz_the_route(self):
        """A few hundred generated deliveries (fixed seed): never a 5xx for a well-formed HTTP
        request, never a row from an unsigned one, and the processing cron never raises."""
        rng = random.Random(20261201)
        junk = [
            "",
            "\x00",
            "\ud800",
            "\udfff",
            "\u202e",
            "' OR 1=1 --",
            "😀" * 40,
            "9" * 400,
            "-1",
            "1.5",
            "null",
            None,
            True,
            12,
            [],
            {},
            {"a": {"b": [1]}},
        ]
        fields = [
            "id",
            "type",
            "time",
            "intuitentityid",
            "intuitaccountid",
            "data",
            "source",
            "specversion",
        ]

        def mutate(event):
            event = dict(event)
            for _ in range(rng.randint(1, 3)):
                key = rng.choice(fields)
                action = rng.random()
                if action < 0.2:
                    event.pop(key, None)
                elif action < 0.8:
                    event[key] = rng.choice(junk)
                else:
                    event[key] = "".join(rng.choice(string.printable) for _ in range(20))
            return event

        def legacy_mutant():
            entity = {
                "name": rng.choice(["Customer", "Invoice", "Payment", "Nope", "", 5]),
                "id": rng.choice([self.customer_a, "0", "", "x" * 300, None, "\x00"]),
                "operation": rng.choice(["Create", "Update", "Delete", "Merge", "Void", "?"]),
                "lastUpdated": rng.choice(["2025-01-01T00:00:00Z", "yesterday", None]),
            }
            return {
                "eventNotifications": [
                    {"realmId": self.realm_id, "dataChangeEvent": {"entities": [entity]}}
                ]
            }

        unsigned_attempts = 0
        for round_ in range(300):
            kind = rng.random()
            if kind < 0.5:
                body = json.dumps(
                    [mutate(self.cloudevent(self.customer_a)) for _ in range(rng.randint(1, 4))]
                ).encode()
            elif kind < 0.7:
                body = json.dumps(legacy_mutant()).encode()
            elif kind < 0.85:
                body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))
            else:
                body = json.dumps(rng.choice(junk)).encode()
            signed = rng.random() < 0.8
            if not signed:
                unsigned_attempts += 1
            content_type = rng.choice(
                ["application/json", "application/cloudevents+json", "text/plain", None]
            )
            before = len(self.events())
            response = self.post(
                body,
                signature=True if signed else rng.choice([None, "AAAA", sign(body, "wrong")]),
                content_type=content_type,
            )
            self.assertLess(response.status_code, 500, f"round {round_}: {body[:120]!r}")
            if not signed:
                self.assertEqual(response.status_code, 403)
                self.assertEqual(len(self.events()), before, "nothing from an unsigned request")
        self.assertGreater(unsigned_attempts, 20)
        self.assertTrue(self.events(), "the signed, well-formed part was stored")
        # The processing cron never raises on what the fuzz left in the inbox.
        self.process()
        states = set(self.events().mapped("state"))
        self.assertFalse(states & {"pending"}, f"every event was processed: {states}")
