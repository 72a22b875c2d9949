"""QboCommon: a US accounting company connected to the QBO emulator's demo company.

The emulator runs on a free loopback port for the whole class; the connection gets real tokens
from the emulator's OAuth flow (authorize -> 302 -> code -> token exchange). Tests talk to it
over real HTTP: retries, paging, faults and tokens are exercised for real.
"""

from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import requests

from odoo import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.biller_genie_qbo.tools import qbo_meter, qbo_oauth

from qbo_emulator import CLIENT_ID, CLIENT_SECRET, Emulator

# Keep the client fast in tests: no client-side throttle, short backoffs.
FAST_CLIENT = {"max_retries": 4, "backoff_base": 0.01, "backoff_max": 0.05, "throttle_wait": 0.05}


class QboCommon(AccountTestInvoicingCommon):
    """Subclasses get ``cls.emu`` (emulator), ``cls.tax_8_25`` (the sale tax matching QBO's
    8.25%) and, per test, ``self.realm_id`` (a fresh demo company) and ``self.connection``.
    Every test starts from a QuickBooks company nobody touched: a new one (this class) or the
    class's own company brought back as it was after its first import (QboPushCommon)."""

    emulator_seed = "demo"
    emulator_options = {}  # e.g. {"tax_mix": True}: create_realm's options

    @classmethod
    @AccountTestInvoicingCommon.setup_country("us")
    @AccountTestInvoicingCommon.setup_chart_template("generic_coa")
    def setUpClass(cls):
        super().setUpClass()
        # One cursor serves every worker, as in HttpCase: the token refresh, which commits in a
        # cursor of its own, then sees (and keeps) the test's data.
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.emu = Emulator(port=0, seed="none", throttle=False)
        cls.emu.start()
        cls.addClassCleanup(cls.emu.stop)
        cls.control = cls.emu.control
        icp = cls.env["ir.config_parameter"].sudo()
        icp.set_param("biller_genie_qbo.client_id", CLIENT_ID)
        icp.set_param("biller_genie_qbo.client_secret", CLIENT_SECRET)
        icp.set_param("biller_genie_qbo.environment", cls.emu.base_url)
        cls.tax_8_25 = cls.env["account.tax"].create(
            {
                "name": "California 8.25%",
                "amount": 8.25,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": cls.env.company.id,
            }
        )
        # Fast retries in tests (the production client waits 60 s on a 429).
        original = cls.env["biller_genie_qbo.connection"].__class__._qbo_build_client

        def fast_build(model, realm_id, tokens, oauth, token_saver):
            client = original(model, realm_id, tokens, oauth, token_saver)
            for key, value in FAST_CLIENT.items():
                setattr(client, key, value)
            client.limiter = None
            return client

        cls.classPatch(
            type(cls.env["biller_genie_qbo.connection"]), "_qbo_build_client", fast_build
        )

    def setUp(self):
        super().setUp()
        self.control.clear_faults()
        # The meter's calls not written yet belong to an earlier test (rolled back).
        qbo_meter.discard(self.env.cr.dbname)
        self._qbo_fresh_company()

    def _qbo_fresh_company(self):
        """A fresh QBO company per test (the emulator outlives the test's rollback)."""
        self.realm_id = self.control.create_realm(seed=self.emulator_seed, **self.emulator_options)
        self.connection = self._qbo_connect(self.env.company, self.realm_id)

    @classmethod
    def _qbo_tokens(cls, realm_id):
        """Real tokens for ``realm_id``: the emulator's OAuth flow, as a browser follows it."""
        cls.control.consent(realm_id=realm_id)
        oauth = qbo_oauth.QboOAuth(
            CLIENT_ID, CLIENT_SECRET, "http://localhost/callback", cls.emu.base_url
        )
        answer = requests.get(oauth.authorization_url("state"), allow_redirects=False, timeout=10)
        code = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
        return oauth.exchange_code(code, realm_id)

    @classmethod
    def _qbo_connect(cls, company, realm_id):
        """A connection holding real tokens for ``realm_id`` (the emulator's OAuth flow)."""
        tokens = cls._qbo_tokens(realm_id)
        conn = cls.env["biller_genie_qbo.connection"].sudo()._qbo_get_or_create(company)
        conn._qbo_store_tokens(tokens)
        # A connection in service: its first push was previewed and confirmed (issue 17).
        conn.write(
            {
                "state": "connected",
                "realm_id": realm_id,
                "qbo_cursor": False,
                "qbo_push_confirmed_at": "2026-01-01 00:00:00",
            }
        )
        return conn.with_company(company)

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def qbo_sync(self, connection=None, trigger="button", **context):
        """One sync run, as the cron runs it (superuser, the connection's company)."""
        conn = (connection or self.connection).sudo()
        if context:
            conn = conn.with_context(**context)
        run = conn._qbo_run_sync(trigger)
        self.assertTrue(run, "the sync ran")
        return run

    def qbo_entities(self, entity, realm_id=None):
        return self.control.entities(realm_id or self.realm_id, entity)

    def qbo_entity(self, entity, qbo_id, realm_id=None):
        return self.control.entity(realm_id or self.realm_id, entity, qbo_id)

    def qbo_edit(self, entity, qbo_id, realm_id=None, **changes):
        return self.control.edit_entity(realm_id or self.realm_id, entity, qbo_id, changes)

    def bound(self, entity, qbo_id, connection=None):
        """The Odoo record bound to a QBO entity (empty recordset when none)."""
        conn = connection or self.connection
        binding = (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", conn.id),
                    ("qbo_entity", "=", entity),
                    ("qbo_id", "=", str(qbo_id)),
                ]
            )
        )
        if not binding:
            return None
        return (
            self.env[binding.res_model]
            .sudo()
            .with_context(active_test=False)
            .browse(binding.res_id)
        )

    def binding_count(self, entity=None, connection=None):
        domain = [("connection_id", "=", (connection or self.connection).id)]
        if entity:
            domain.append(("qbo_entity", "=", entity))
        return self.env["biller_genie_qbo.binding"].sudo().search_count(domain)

    def api_calls(self):
        counters = self.control.counters()
        return counters.get("api_total", counters.get("total", 0))

    def assertRunOk(self, run, allow_errors=False):
        errors = "\n".join(f"{e.qbo_entity} {e.qbo_id}: {e.message}" for e in run.error_ids)
        self.assertNotEqual(run.state, "failed", run.message)
        if not allow_errors:
            self.assertFalse(run.error_ids, errors)

    def assertQboTotals(self, entity="Invoice", realm_id=None, connection=None):
        """Every QBO transaction of ``entity``: Odoo total == TotalAmt and residual == Balance
        (to the cent); voided ones are cancelled in Odoo."""
        checked = 0
        for remote in self.qbo_entities(entity, realm_id):
            move = self.bound(entity, remote["Id"], connection)
            self.assertTrue(move, f"{entity} {remote['Id']} is imported")
            if (remote.get("PrivateNote") or "").startswith("Voided"):
                self.assertEqual(move.state, "cancel", f"{entity} {remote['Id']} voided")
                continue
            self.assertEqual(move.state, "posted", f"{entity} {remote['Id']} posted")
            self.assertEqual(
                Decimal(str(move.amount_total)).quantize(Decimal("0.01")),
                Decimal(str(remote["TotalAmt"])).quantize(Decimal("0.01")),
                f"{entity} {remote['Id']} ({remote.get('DocNumber')}) total",
            )
            if "Balance" in remote:
                self.assertEqual(
                    Decimal(str(move.amount_residual)).quantize(Decimal("0.01")),
                    Decimal(str(remote["Balance"])).quantize(Decimal("0.01")),
                    f"{entity} {remote['Id']} ({remote.get('DocNumber')}) balance",
                )
            checked += 1
        return checked

    @classmethod
    def _tax_commands(cls, *taxes):
        return [Command.set([t.id for t in taxes])]


class QboImportedCommon(QboCommon):
    """QboCommon with the demo company imported once per class (a first import is 6-8 s of a
    test's time); every test starts from that import: Odoo's side by the test's rollback, the
    emulator's by ``restore_realm`` (the same company, ids, SyncTokens and change times). For
    tests of what comes after a first import; a test of the first import itself is a
    QboCommon test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.realm_id = cls.control.create_realm(seed=cls.emulator_seed, **cls.emulator_options)
        cls.connection = cls._qbo_connect(cls.env.company, cls.realm_id)
        run = cls.connection.sudo()._qbo_run_sync("button")
        if run.state == "failed" or run.error_ids:
            raise AssertionError(f"the class's first import failed: {run.message}")
        cls.control.save_realm(cls.realm_id)

    def _qbo_fresh_company(self):
        self.control.restore_realm(self.realm_id)
        # New tokens: an earlier test may have refreshed (rotated) the class's tokens.
        self.connection.sudo()._qbo_store_tokens(self._qbo_tokens(self.realm_id))
