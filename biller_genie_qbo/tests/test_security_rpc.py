"""Attacks through JSON-RPC exactly as a browser sends them (``/web/session/authenticate``,
``/web/dataset/call_kw``, ``/web/dataset/call_button``), as a portal user, a plain internal
user, a QuickBooks Online user and another company's QuickBooks manager: no secret in any
answer, no forbidden action succeeds, no Intuit call is made by a refused action (the
emulator's counters), and a refusal names nothing of the other company."""

import json
from urllib.parse import parse_qs, quote, urlsplit

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.biller_genie_qbo import const

from .common_push import QboPushCommon

CLIENT_SECRET_MARK = "emulator-client-secret"  # the app secret of the emulator (QboCommon)
VERIFIER = "verifier-token-nobody-may-read"
QUIET = ("odoo.http", "odoo.addons.biller_genie_qbo.models.qbo_connection")


class SecurityRpcCommon(QboPushCommon, HttpCase):
    """The attackers, the secrets and JSON-RPC as a browser sends it (also used by
    test_security_rpc_review.py)."""

    registry_test_mode = False  # QboCommon puts the registry in test mode already

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The app secrets as an administrator stores them (the settings' write-only fields).
        cls.env["res.config.settings"].create(
            {"qbo_client_secret": CLIENT_SECRET_MARK, "qbo_webhook_verifier_token": VERIFIER}
        )
        cls.company_a = cls.env.company
        cls.env.ref("base.user_admin").company_ids |= cls.company_a
        cls.company_a.name = "Acme Secret Holdings"
        cls.company_b = cls.env["res.company"].create({"name": "Other Company B"})
        cls.portal = new_test_user(cls.env, "sec_portal", groups="base.group_portal")
        own_company = {
            "company_id": cls.company_a.id,
            "company_ids": [Command.set(cls.company_a.ids)],
        }
        cls.plain = new_test_user(
            cls.env,
            "sec_plain",
            groups="base.group_user,account.group_account_invoice",
            **own_company,
        )
        cls.qbo_user = new_test_user(
            cls.env,
            "sec_qbo_user",
            groups="base.group_user,account.group_account_invoice,biller_genie_qbo.group_qbo_user",
            **own_company,
        )
        cls.manager_b = new_test_user(
            cls.env,
            "sec_manager_b",
            groups="base.group_user,account.group_account_manager,"
            "biller_genie_qbo.group_qbo_manager",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        # The QuickBooks user comes last: he may retry and dismiss his company's failures.
        cls.attackers = (cls.portal, cls.plain, cls.manager_b, cls.qbo_user)

    def setUp(self):
        super().setUp()
        tokens = self.conn._qbo_tokens()
        self.secrets = [CLIENT_SECRET_MARK, VERIFIER, tokens.access_token, tokens.refresh_token]
        self.invoice = self.make_invoice()
        self.push()
        run = self.conn._qbo_run_sync("button")
        self.failure = (
            self.env["biller_genie_qbo.sync.error"]
            .sudo()
            .create(
                {
                    "run_id": run.id,
                    "qbo_entity": "Invoice",
                    "qbo_id": "999999",
                    "message": "It failed",
                }
            )
        )

    # ------------------------------------------------------------------
    # JSON-RPC as a browser sends it
    # ------------------------------------------------------------------
    def login(self, user):
        self.authenticate(user.login, user.login)
        return user

    def rpc(self, model, method, args=(), kwargs=None, route="call_kw", company=None, context=None):
        """The raw answer of a JSON-RPC call (text, and the parsed ``result`` or ``error``)."""
        context = {**({"allowed_company_ids": [company.id]} if company else {}), **(context or {})}
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "model": model,
                "method": method,
                "args": list(args),
                "kwargs": {**(kwargs or {}), "context": context},
            },
        }
        url = f"/web/dataset/{route}" + (f"/{model}/{method}" if route == "call_kw" else "")
        response = self.url_open(
            url, data=json.dumps(payload), headers={"Content-Type": "application/json"}
        )
        self.assertEqual(response.status_code, 200, response.text[:300])
        return response.text, response.json()

    def assertNoSecret(self, text, what):
        for secret in self.secrets:
            self.assertNotIn(secret, text, f"{what} leaks a secret")

    def assertRefused(self, answer, what, forbidden_names=()):
        text, body = answer
        self.assertIn("error", body, f"{what} was not refused: {text[:300]}")
        message = json.dumps(body["error"])
        for name in ("Acme Secret Holdings", *forbidden_names):
            self.assertNotIn(name, message, f"the refusal of {what} names the other company")
        self.assertNoSecret(text, what)

    def intuit_calls(self):
        counters = self.control.counters()
        return counters.get("total", 0)


@tagged("post_install", "-at_install")
class TestSecurityRpc(SecurityRpcCommon):
    # ------------------------------------------------------------------
    # Secrets
    # ------------------------------------------------------------------
    @mute_logger(*QUIET)
    def test_no_secret_on_any_path(self):
        settings_fields = [f for f in self.env["res.config.settings"]._fields if "qbo" in f]
        connection_fields = list(self.env["biller_genie_qbo.connection"]._fields)
        admin = self.env.ref("base.user_admin")
        for user in (*self.attackers, admin):
            self.login(user)
            calls = [
                ("res.config.settings", "default_get", [settings_fields], {}),
                ("res.config.settings", "get_values", [], {}),
                ("res.config.settings", "fields_get", [], {}),
                (
                    "res.config.settings",
                    "onchange",
                    [[], {}, [], {name: {} for name in settings_fields}],
                    {},
                ),
                ("ir.config_parameter", "search_read", [[]], {"fields": ["key", "value"]}),
                ("ir.config_parameter", "get_param", [const.PARAM_CLIENT_SECRET], {}),
                ("biller_genie_qbo.token", "search_read", [[]], {}),
                (
                    "biller_genie_qbo.connection",
                    "web_read",
                    [[self.conn.id]],
                    {"specification": {name: {} for name in connection_fields}},
                ),
                ("biller_genie_qbo.connection", "read", [[self.conn.id], connection_fields], {}),
                ("biller_genie_qbo.connection", "search_read", [[]], {}),
                (
                    "biller_genie_qbo.connection",
                    "export_data",
                    [[self.conn.id], ["support_details", "realm_id"]],
                    {},
                ),
                ("biller_genie_qbo.connection", "fields_get", [], {}),
            ]
            for model, method, args, kwargs in calls:
                text, _body = self.rpc(model, method, args, kwargs)
                self.assertNoSecret(text, f"{user.login}: {model}.{method}")
        # The page as the browser renders it for an administrator: no secret either.
        self.login(admin)
        _text, body = self.rpc(
            "res.config.settings", "onchange", [[], {}, [], {name: {} for name in settings_fields}]
        )
        self.assertIn("result", body, body)
        values = body["result"]["value"]
        self.assertFalse(values.get("qbo_client_secret"), "write-only, even for admins")
        self.assertTrue(values.get("qbo_client_secret_set"), "the form says a secret is stored")

    def test_admin_sets_a_secret_without_reading_it(self):
        self.login(self.env.ref("base.user_admin"))
        _text, body = self.rpc(
            "res.config.settings",
            "web_save",
            [[], {"qbo_webhook_verifier_token": "a-new-verifier"}],
            {"specification": {"qbo_webhook_verifier_token": {}}},
        )
        self.assertFalse(body["result"][0]["qbo_webhook_verifier_token"], "never read back")
        Token = self.env["biller_genie_qbo.token"]
        stored = self.env["ir.config_parameter"].sudo().get_param(const.PARAM_VERIFIER_TOKEN)
        self.assertNotIn("a-new-verifier", stored, "stored encrypted")
        self.assertEqual(Token._qbo_get_secret(const.PARAM_VERIFIER_TOKEN), "a-new-verifier")
        # Saving the settings again with the field left empty keeps the stored value.
        self.rpc("res.config.settings", "web_save", [[], {"qbo_client_id": "changed"}])
        self.assertEqual(Token._qbo_get_secret(const.PARAM_VERIFIER_TOKEN), "a-new-verifier")

    # ------------------------------------------------------------------
    # Actions and routes
    # ------------------------------------------------------------------
    @mute_logger(*QUIET)
    def test_no_forbidden_action_succeeds_and_no_intuit_call(self):
        conn = self.conn
        mapping = conn.item_mapping_ids.filtered(lambda m: m.system_item == "late_fee")
        mapping.qbo_item_id = self.items["Late Fee"]
        state_before = conn.sudo().oauth_state_hash
        for user in self.attackers:
            self.login(user)
            calls_before = self.intuit_calls()
            company = self.company_b if user == self.manager_b else None
            for method in (
                "action_qbo_disconnect",
                "action_qbo_connect",
                "action_qbo_sync_now",
            ):
                answer = self.rpc(
                    "biller_genie_qbo.connection",
                    method,
                    [[conn.id]],
                    route="call_button",
                    company=company,
                )
                self.assertRefused(answer, f"{user.login}: {method}")
            answer = self.rpc(
                "biller_genie_qbo.item.mapping",
                "action_remove_mapping",
                [mapping.ids],
                route="call_button",
                company=company,
            )
            self.assertRefused(answer, f"{user.login}: remove mapping")
            # The duplicate review's decisions (link, merge, create) are for managers only.
            for method in (
                "action_retry",
                "action_dismiss",
                "action_twin_link",
                "action_twin_create",
            ):
                answer = self.rpc(
                    "biller_genie_qbo.sync.error",
                    method,
                    [self.failure.ids],
                    route="call_button",
                    company=company,
                )
                if user == self.qbo_user and method in ("action_retry", "action_dismiss"):
                    continue  # QuickBooks users of the company may retry and dismiss
                self.assertRefused(answer, f"{user.login}: {method}")
            answer = self.rpc(
                "account.move",
                "action_qbo_push_retry",
                [self.invoice.ids],
                route="call_button",
                company=company,
            )
            if user != self.qbo_user:
                self.assertRefused(answer, f"{user.login}: push retry")
            # Intuit's Disconnect URL, as that user's browser would open it.
            response = self.url_open(
                f"{const.DISCONNECT_PATH}?realmId={self.realm_id}", allow_redirects=False
            )
            self.assertNotIn(response.status_code, (500,))
            if user != self.qbo_user:  # the retries of a QuickBooks user do call Intuit
                self.assertEqual(self.intuit_calls(), calls_before, f"{user.login} called Intuit")
            conn.invalidate_recordset()
            self.assertEqual(conn.state, "connected", f"{user.login} disconnected company A")
            self.assertEqual(conn.sudo().oauth_state_hash, state_before)
            self.assertFalse(conn.sync_requested, f"{user.login} queued a sync")
            self.assertEqual(mapping.qbo_item_id, self.items["Late Fee"])
            self.assertTrue(conn._qbo_tokens().refresh_token, "the grant is still there")
            self.failure.invalidate_recordset()
            dismissed = self.failure.state == "dismissed"
            self.assertEqual(dismissed, user == self.qbo_user, f"{user.login}: dismissed")

    @mute_logger(*QUIET)
    def test_the_company_manager_can(self):
        """Control: the same calls succeed for the manager of company A (the test can fail)."""
        self.login(self.env.ref("base.user_admin"))
        calls_before = self.intuit_calls()
        _text, body = self.rpc(
            "biller_genie_qbo.connection",
            "action_qbo_disconnect",
            [[self.conn.id]],
            route="call_button",
        )
        self.assertNotIn("error", body)
        self.conn.invalidate_recordset()
        self.assertEqual(self.conn.state, "disconnected")
        self.assertGreater(self.intuit_calls(), calls_before, "the grant was revoked at Intuit")

    # ------------------------------------------------------------------
    # The engine's state is the engine's: no user writes it
    # ------------------------------------------------------------------
    @mute_logger(*QUIET)
    def test_no_user_writes_what_the_engine_keeps(self):
        """Bindings, runs, failures and the QuickBooks item cache are written by the engine
        only; a connection's realm, state and cursor too. A manager who could write them could
        bind his company's connection to another company's records (and push them to his
        QuickBooks), or point it at another company's realm."""
        manager_a = new_test_user(
            self.env,
            "sec_manager_a",
            groups="base.group_user,account.group_account_manager,"
            "biller_genie_qbo.group_qbo_manager",
            company_id=self.company_a.id,
            company_ids=[Command.set(self.company_a.ids)],
        )
        partner_b = self.env["res.partner"].create(
            {"name": "B's customer", "company_id": self.company_b.id}
        )
        binding = self.env["biller_genie_qbo.binding"].search(
            [("connection_id", "=", self.conn.id)], limit=1
        )
        item = self.items["Late Fee"]
        mapping = self.conn.item_mapping_ids[:1]
        other_conn = (
            self.env["biller_genie_qbo.connection"].sudo()._qbo_get_or_create(self.company_b)
        )
        cursor_before = self.conn.qbo_cursor
        for user in (manager_a, self.manager_b):
            self.login(user)
            company = self.company_b if user == self.manager_b else None
            attempts = [
                (
                    "biller_genie_qbo.binding",
                    "create",
                    [
                        {
                            "connection_id": self.conn.id,
                            "qbo_entity": "Customer",
                            "qbo_id": "424242",
                            "res_model": "res.partner",
                            "res_id": partner_b.id,
                        }
                    ],
                ),
                ("biller_genie_qbo.binding", "write", [binding.ids, {"res_id": partner_b.id}]),
                ("biller_genie_qbo.binding", "unlink", [binding.ids]),
                (
                    "biller_genie_qbo.sync.error",
                    "create",
                    [
                        {
                            "run_id": self.failure.run_id.id,
                            "res_model": "res.partner",
                            "res_id": partner_b.id,
                            "message": "retry me",
                        }
                    ],
                ),
                ("biller_genie_qbo.sync.error", "write", [self.failure.ids, {"qbo_id": "1"}]),
                ("biller_genie_qbo.sync.run", "unlink", [self.failure.run_id.ids]),
                ("biller_genie_qbo.item", "write", [item.ids, {"name": "renamed"}]),
                ("biller_genie_qbo.connection", "write", [[self.conn.id], {"realm_id": "1"}]),
                ("biller_genie_qbo.connection", "write", [[self.conn.id], {"state": "connected"}]),
                (
                    "biller_genie_qbo.connection",
                    "write",
                    [[self.conn.id], {"qbo_cursor": "2001-01-01 00:00:00"}],
                ),
                (
                    "biller_genie_qbo.item.mapping",
                    "write",
                    [mapping.ids, {"connection_id": other_conn.id}],
                ),
                (
                    "biller_genie_qbo.item.mapping",
                    "create",
                    [{"connection_id": other_conn.id, "system_item": "late_fee"}],
                ),
            ]
            for model, method, args in attempts:
                answer = self.rpc(model, method, args, company=company)
                self.assertRefused(answer, f"{user.login}: {model}.{method}", ["B's customer"])
        self.conn.invalidate_recordset()
        self.assertEqual(self.conn.realm_id, self.realm_id)
        self.assertEqual(self.conn.qbo_cursor, cursor_before)
        self.assertTrue(binding.exists())
        self.assertFalse(
            self.env["biller_genie_qbo.binding"].search([("qbo_id", "=", "424242")]),
            "no binding was planted",
        )
        self.assertEqual(mapping.connection_id, self.conn)
        # Control: the page's settings are a manager's to change (the test can fail).
        self.login(manager_a)
        _text, body = self.rpc(
            "biller_genie_qbo.connection",
            "web_save",
            [[self.conn.id], {"commodity_code": "43211500", "sync_cc_emails": "yes"}],
            {"specification": {"commodity_code": {}}},
        )
        self.assertNotIn("error", body, body)
        self.assertEqual(self.conn.commodity_code, "43211500")
        _text, body = self.rpc(
            "biller_genie_qbo.connection",
            "web_save",
            [
                [self.conn.id],
                {"item_mapping_ids": [Command.update(mapping.id, {"qbo_item_id": False})]},
            ],
            {"specification": {}},
        )
        self.assertNotIn("error", body, body)

    @mute_logger(*QUIET)
    def test_a_company_manager_opens_the_disconnect_url(self):
        """Intuit's Disconnect URL, opened by a QuickBooks manager who is not a system
        administrator: it checks the grant and shows the page (the realm's hash is a system
        field), and another company's realm is neither checked nor named."""
        manager_a = new_test_user(
            self.env,
            "sec_manager_a2",
            groups="base.group_user,biller_genie_qbo.group_qbo_manager",
            company_id=self.company_a.id,
            company_ids=[Command.set(self.company_a.ids)],
        )
        for user in (manager_a, self.manager_b):
            self.login(user)
            calls_before = self.intuit_calls()
            response = self.url_open(
                f"{const.DISCONNECT_PATH}?realmId={self.realm_id}", allow_redirects=False
            )
            self.assertIn(response.status_code, (302, 303), f"{user.login}: {response.text[:200]}")
            checked = self.intuit_calls() > calls_before
            self.assertEqual(checked, user == manager_a, f"{user.login}: grant checked")
        self.conn.invalidate_recordset()
        self.assertEqual(self.conn.state, "connected", "the grant is fine: still connected")

    @mute_logger(*QUIET)
    def test_no_accountant_steers_the_push(self):
        """The push's own fields (its state, its requestid, the QuickBooks numbers and links)
        are the engine's, and the no-push switch is not the browser's: an accountant who
        could set them would keep posted changes out of QuickBooks without a trace, forge the
        exactly-once key, or hide another company's payment from its push."""
        accountant = self.plain
        self.login(accountant)
        for vals in (
            {"qbo_push_state": "done", "qbo_push_dirty": False},
            {"qbo_push_request_id": "deadbeef" * 4},
            {"qbo_push_seq": 99},
            {"qbo_doc_number": "FAKE-1"},
            {"qbo_receipt_payment_id": 999999},
        ):
            answer = self.rpc("account.move", "write", [self.invoice.ids, vals])
            self.assertRefused(answer, f"accountant writes {sorted(vals)}")
        # The no-push switch from the browser is ignored: the change is still sent.
        _text, body = self.rpc(
            "account.move",
            "write",
            [self.invoice.ids, {"ref": "PO-77"}],
            context={"qbo_no_push": True},
        )
        self.assertNotIn("error", body, body)
        self.invoice.invalidate_recordset()
        self.assertTrue(self.invoice.qbo_push_dirty, "the edit is queued for QuickBooks")
        self.assertNotEqual(self.invoice.qbo_push_request_id, "deadbeef" * 4)

    @mute_logger(*QUIET)
    def test_a_refused_po_field_names_no_item_of_another_company(self):
        item_b = (
            self.env["biller_genie_qbo.item"]
            .sudo()
            .create(
                {
                    "connection_id": self.env["biller_genie_qbo.connection"]
                    .sudo()
                    ._qbo_get_or_create(self.company_b)
                    .id,
                    "qbo_id": "777",
                    "name": "Secret B Consulting",
                }
            )
        )
        manager_a = new_test_user(
            self.env,
            "sec_manager_a3",
            groups="base.group_user,biller_genie_qbo.group_qbo_manager",
            company_id=self.company_a.id,
            company_ids=[Command.set(self.company_a.ids)],
        )
        self.login(manager_a)
        answer = self.rpc(
            "biller_genie_qbo.connection",
            "write",
            [[self.conn.id], {"po_number_item_id": item_b.id}],
        )
        self.assertRefused(answer, "PO field with B's item", ["Secret B Consulting"])

    @mute_logger(*QUIET)
    def test_the_item_of_lines_without_a_product_is_the_companys_managers(self):
        """The books setting that decides the QuickBooks item of typed lines: no attacker sets
        it on company A, and A's manager cannot point it at another company's item."""
        books = self.env["biller_genie_qbo.books"]._qbo_for(self.conn)
        item_a = self.items["Services"]
        for user in self.attackers:
            self.login(user)
            answer = self.rpc(
                "biller_genie_qbo.books",
                "write",
                [books.ids, {"qbo_no_product_item_id": item_a.id}],
            )
            self.assertRefused(answer, f"{user.login} sets the item of typed lines")
        books.invalidate_recordset()
        self.assertFalse(books.qbo_no_product_item_id)
        item_b = (
            self.env["biller_genie_qbo.item"]
            .sudo()
            .create(
                {
                    "connection_id": self.env["biller_genie_qbo.connection"]
                    .sudo()
                    ._qbo_get_or_create(self.company_b)
                    .id,
                    "qbo_id": "778",
                    "name": "Secret B Labour",
                }
            )
        )
        manager_a = new_test_user(
            self.env,
            "sec_manager_a4",
            groups="base.group_user,biller_genie_qbo.group_qbo_manager",
            company_id=self.company_a.id,
            company_ids=[Command.set(self.company_a.ids)],
        )
        self.login(manager_a)
        answer = self.rpc(
            "biller_genie_qbo.books",
            "write",
            [books.ids, {"qbo_no_product_item_id": item_b.id}],
        )
        self.assertRefused(answer, "typed lines with B's item", ["Secret B Labour"])
        # Control (the test can fail): A's manager sets A's item.
        _text, body = self.rpc(
            "biller_genie_qbo.books",
            "write",
            [books.ids, {"qbo_no_product_item_id": item_a.id}],
        )
        self.assertNotIn("error", body, body)

    def test_the_callback_tells_nothing_about_other_connections(self):
        """A forged state naming another company's connection answers like one naming no
        connection (no 403 oracle); the error parameter cannot forge log lines."""
        self.login(self.manager_b)
        with mute_logger(*QUIET):
            answers = [
                self.url_open(
                    f"{const.OAUTH_CALLBACK_PATH}?state={state}&code=x&realmId=1",
                    allow_redirects=False,
                ).status_code
                for state in (f"{self.conn.id}:forged", "999999:forged")
            ]
        self.assertEqual(answers[0], answers[1])
        self.assertIn(answers[0], (302, 303))
        # A genuine state of the user's own flow, with a hostile error parameter.
        self.login(self.env.ref("base.user_admin"))
        _text, body = self.rpc(
            "biller_genie_qbo.connection",
            "action_qbo_connect",
            [[self.conn.id]],
            route="call_button",
        )
        state = parse_qs(urlsplit(body["result"]["url"]).query)["state"][0]
        with self.assertLogs("odoo.addons.biller_genie_qbo", "WARNING") as logs:
            self.url_open(
                f"{const.OAUTH_CALLBACK_PATH}?state={quote(state)}&error=x%0AFAKE%20LOG%20LINE",
                allow_redirects=False,
            )
        self.assertFalse([line for line in logs.output if "\nFAKE" in line], logs.output)
        self.conn.invalidate_recordset()
        self.assertNotIn("\n", self.conn.oauth_error_message)
