"""Attacks through JSON-RPC (as test_security_rpc.py) on what came with the tax, currency and
duplicate-review work: the duplicate review's Link / Create anyway of credit memos, sales
receipts and refund receipts, Round tax globally and its warning, and the QuickBooks home
currency. Nobody but the company's QuickBooks manager decides a duplicate (not even through
the context a browser sends with a permitted Retry), nobody but an administrator of the
company changes its rounding, and nobody writes what QuickBooks says its currency is."""

from odoo import Command, fields
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..sync.twins import SUSPECT_CODE
from .test_duplicates import suspects
from .test_duplicates_sales import pay_back
from .test_security_rpc import QUIET, SecurityRpcCommon

ENTITIES = ("CreditMemo", "SalesReceipt", "RefundReceipt")


@tagged("post_install", "-at_install")
class TestSecurityRpcReview(SecurityRpcCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager_a = new_test_user(
            cls.env,
            "sec_review_manager_a",
            groups="base.group_user,account.group_account_manager,"
            "biller_genie_qbo.group_qbo_manager",
            company_id=cls.company_a.id,
            company_ids=[Command.set(cls.company_a.ids)],
        )
        # A company with its books (company B of the parent class has none): its documents
        # are what an attacker of company A would like to reach.
        cls.company_c = cls.setup_other_company(name="Other Company C")["company"]

    def setUp(self):
        super().setUp()
        self.rounding_a = self.company_a.tax_calculation_rounding_method

    # ------------------------------------------------------------------
    # Held look-alikes of QuickBooks credit memos, sales receipts and refund receipts
    # ------------------------------------------------------------------
    def qbo_document(self, entity, move):
        """A QuickBooks ``entity`` of this Odoo document's customer, total and date."""
        amount = move.amount_total
        made = self.control.create_entity(
            self.realm_id,
            entity,
            {
                "CustomerRef": {"value": self.binding_of(self.customer).qbo_id},
                "TxnDate": str(move.invoice_date),
                "Line": [
                    {
                        "DetailType": "SalesItemLineDetail",
                        "Amount": amount,
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": self.items["Services"].qbo_id},
                            "Qty": 1,
                            "UnitPrice": amount,
                        },
                    }
                ],
            },
        )
        return made.get(entity, made)

    def held(self):
        """{entity: (suspect item, the Odoo twin)}: a QuickBooks credit memo, sales receipt
        and refund receipt each held for the review (like an Odoo document of company A)."""
        refund = self.make_invoice(
            lines=[(self.product_services, 1, 45.60, None)], move_type="out_refund"
        )
        pay_back(refund)
        twins = {
            "CreditMemo": self.make_invoice(
                lines=[(self.product_services, 1, 123.40, None)], move_type="out_refund"
            ),
            "SalesReceipt": self.make_invoice(lines=[(self.product_services, 1, 432.10, None)]),
            "RefundReceipt": refund,
        }
        remotes = {entity: self.qbo_document(entity, move) for entity, move in twins.items()}
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        out = {}
        for entity, move in twins.items():
            item = suspects(
                self.env,
                self.conn,
                direction="pull",
                qbo_entity=entity,
                qbo_id=str(remotes[entity]["Id"]),
            )
            self.assertEqual(item.twin_res_id, move.id, f"{entity} held")
            out[entity] = (item, move)
        return out

    def credit_note_of_c(self):
        return (
            self.env["account.move"]
            .with_company(self.company_c)
            .create(
                {
                    "move_type": "out_refund",
                    "company_id": self.company_c.id,
                    "partner_id": self.env["res.partner"].create({"name": "C's customer"}).id,
                    "invoice_date": fields.Date.today(),
                    "invoice_line_ids": [
                        Command.create({"name": "C's secret refund", "price_unit": 999.99})
                    ],
                }
            )
        )

    # ------------------------------------------------------------------
    # The duplicate review
    # ------------------------------------------------------------------
    @mute_logger(*QUIET)
    def test_a_retry_decides_no_duplicate_through_its_context(self):
        """A QuickBooks user may Retry a held credit memo, sales receipt or refund receipt;
        the context his browser sends with it is not a decision: neither "Create anyway"
        (the same money twice) nor "Link" (to another of his company's documents, or to
        another company's credit note, whose lines the import would then rewrite)."""
        held = self.held()
        moves_before = self.env["account.move"].search_count([])
        other_c = self.credit_note_of_c()
        other_a = self.invoice  # company A's invoice, sent to QuickBooks already
        c_before = (other_c.amount_total, other_c.partner_id, other_c.invoice_line_ids.name)
        self.login(self.qbo_user)
        for entity, (item, _twin) in held.items():
            ref = f"{entity}:{item.qbo_id}"
            for context in (
                {"qbo_twin_link": {ref: other_c.id}},
                {"qbo_twin_link": {ref: other_a.id}},
                {"qbo_twin_create": [ref]},
            ):
                with self.subTest(entity=entity, context=context):
                    # (a retry still failing supersedes the item with a new one)
                    active = suspects(self.env, self.conn, qbo_entity=entity, qbo_id=item.qbo_id)
                    self.assertEqual(len(active), 1)
                    self.rpc(
                        "biller_genie_qbo.sync.error",
                        "action_retry",
                        [active.ids],
                        route="call_button",
                        context=context,
                    )
                    self.assertIsNone(self.bound(entity, item.qbo_id), "still held")
        self.assertEqual(self.env["account.move"].search_count([]), moves_before + 1)
        other_c.invalidate_recordset()
        self.assertEqual(
            (other_c.amount_total, other_c.partner_id, other_c.invoice_line_ids.name), c_before
        )
        Binding = self.env["biller_genie_qbo.binding"].sudo()
        self.assertFalse(
            Binding.search([("res_model", "=", "account.move"), ("res_id", "=", other_c.id)])
        )
        self.assertEqual(
            len(Binding.search([("res_model", "=", "account.move"), ("res_id", "=", other_a.id)])),
            1,
        )
        # Control (the test can fail): the company's manager decides, and it is done.
        self.login(self.manager_a)
        for entity, (item, twin) in held.items():
            active = suspects(self.env, self.conn, qbo_entity=entity, qbo_id=item.qbo_id)
            self.assertFalse(active.twin_decision, f"{entity}: nobody decided")
            _text, body = self.rpc(
                "biller_genie_qbo.sync.error", "action_twin_link", [active.ids], route="call_button"
            )
            self.assertNotIn("error", body, body)
            self.assertEqual(self.bound(entity, item.qbo_id), twin)

    @mute_logger(*QUIET)
    def test_only_the_companys_manager_links_or_creates_a_sales_document(self):
        held = self.held()
        # A suspect of another company's connection, for company A's manager.
        conn_c = self.env["biller_genie_qbo.connection"].sudo()._qbo_get_or_create(self.company_c)
        run_c = self.env["biller_genie_qbo.sync.run"].sudo().create({"connection_id": conn_c.id})
        other_c = self.credit_note_of_c()
        item_c = (
            self.env["biller_genie_qbo.sync.error"]
            .sudo()
            .create(
                {
                    "run_id": run_c.id,
                    "direction": "pull",
                    "qbo_entity": "CreditMemo",
                    "qbo_id": "4242",
                    "code": SUSPECT_CODE,
                    "twin_model": "account.move",
                    "twin_res_id": other_c.id,
                    "twin_name": "C's secret refund",
                    "message": "The QuickBooks Online credit memo of C's customer...",
                }
            )
        )
        calls_before = self.intuit_calls()
        for user in (*self.attackers, self.manager_a):
            self.login(user)
            company = self.company_b if user == self.manager_b else None
            targets = [item for item, _twin in held.values()]
            if user == self.manager_a:
                targets = [item_c]
            for item in targets:
                for method in ("action_twin_link", "action_twin_create"):
                    answer = self.rpc(
                        "biller_genie_qbo.sync.error",
                        method,
                        [item.ids],
                        route="call_button",
                        company=company,
                    )
                    self.assertRefused(
                        answer,
                        f"{user.login}: {method} {item.qbo_entity}",
                        ["C's secret refund", "C's customer", "Other Company C"],
                    )
        self.assertEqual(self.intuit_calls(), calls_before, "a refused decision called Intuit")
        for entity, (item, twin) in held.items():
            item.invalidate_recordset()
            self.assertFalse(item.twin_decision, entity)
            self.assertIsNone(self.bound(entity, item.qbo_id))
            self.assertFalse(twin.qbo_not_duplicate)
            self.assertEqual(twin.state, "posted")
        self.assertFalse(item_c.twin_decision)
        self.assertEqual(other_c.state, "draft")

    # ------------------------------------------------------------------
    # Round tax globally, and the home currency
    # ------------------------------------------------------------------
    @mute_logger(*QUIET)
    def test_only_an_administrator_of_the_company_rounds_its_tax_globally(self):
        conn_c = self.env["biller_genie_qbo.connection"].sudo()._qbo_get_or_create(self.company_c)
        self.company_c.tax_calculation_rounding_method = "round_per_line"
        self.company_a.tax_calculation_rounding_method = "round_per_line"
        self.conn.sudo().qbo_tax_model = "non_us"
        for user in (*self.attackers, self.manager_a):
            self.login(user)
            company = self.company_b if user == self.manager_b else None
            answer = self.rpc(
                "biller_genie_qbo.connection",
                "action_qbo_round_tax_globally",
                [[self.conn.id]],
                route="call_button",
                company=company,
            )
            self.assertRefused(answer, f"{user.login}: round tax globally")
            self.assertEqual(self.company_a.tax_calculation_rounding_method, "round_per_line")
        # The warning is company A's: nobody of another company reads it.
        self.login(self.manager_b)
        answer = self.rpc(
            "biller_genie_qbo.connection",
            "read",
            [[self.conn.id], ["qbo_tax_rounding_warning", "qbo_currency_problem"]],
            company=self.company_b,
        )
        self.assertRefused(answer, "B's manager reads A's warnings")
        # An administrator acts on the companies of his session only.
        admin = self.env.ref("base.user_admin")
        admin.company_ids |= self.company_c
        self.login(admin)
        answer = self.rpc(
            "biller_genie_qbo.connection",
            "action_qbo_round_tax_globally",
            [conn_c.ids],
            route="call_button",
            company=self.company_a,
        )
        self.assertRefused(answer, "admin in A rounds C's tax", ["Other Company C"])
        self.assertEqual(self.company_c.tax_calculation_rounding_method, "round_per_line")
        # Control (the test can fail): the administrator, in his company's session.
        _text, body = self.rpc(
            "biller_genie_qbo.connection",
            "action_qbo_round_tax_globally",
            [[self.conn.id]],
            route="call_button",
            company=self.company_a,
        )
        self.assertNotIn("error", body, body)
        self.company_a.invalidate_recordset()
        self.assertEqual(self.company_a.tax_calculation_rounding_method, "round_globally")

    @mute_logger(*QUIET)
    def test_nobody_says_what_the_quickbooks_currency_is(self):
        """The home currency is what QuickBooks says: a manager who could write it would lift
        the currency refusal (every document booked in the wrong currency) or stop his
        company's sync with a false one."""
        self.conn.sudo().qbo_home_currency = "USD"
        for user in (*self.attackers, self.manager_a):
            self.login(user)
            company = self.company_b if user == self.manager_b else None
            for method, args in (
                ("write", [[self.conn.id], {"qbo_home_currency": "CAD"}]),
                ("web_save", [[self.conn.id], {"qbo_home_currency": "CAD"}]),
            ):
                answer = self.rpc("biller_genie_qbo.connection", method, args, company=company)
                self.assertRefused(answer, f"{user.login}: {method} the home currency")
        self.conn.invalidate_recordset()
        self.assertEqual(self.conn.sudo().qbo_home_currency, "USD")
        self.assertFalse(self.conn.qbo_currency_problem)
        # A QuickBooks user of the company reads the banner (the page renders it).
        self.login(self.qbo_user)
        _text, body = self.rpc(
            "biller_genie_qbo.connection",
            "read",
            [[self.conn.id], ["qbo_home_currency", "qbo_currency_problem"]],
        )
        self.assertNotIn("error", body, body)

    # ------------------------------------------------------------------
    # The no-push switch on a reconciliation
    # ------------------------------------------------------------------
    @mute_logger(*QUIET)
    def test_an_accountant_applies_a_credit_note_and_quickbooks_is_told(self):
        """Applying a credit note to an invoice (the invoice form's Outstanding credits) with
        the no-push switch in the browser's context: the application still goes to
        QuickBooks (otherwise the invoice stays open there, its balance wrong, silently)."""
        refund = self.make_invoice(
            lines=[(self.product_services, 1, 10.00, None)], move_type="out_refund"
        )
        receivable = refund.line_ids.filtered(
            lambda ln: ln.account_id.account_type == "asset_receivable"
        )
        self.login(self.plain)
        _text, body = self.rpc(
            "account.move",
            "js_assign_outstanding_line",
            [self.invoice.ids, receivable.id],
            context={"qbo_no_push": True},
        )
        self.assertNotIn("error", body, body)
        application = (
            self.env["biller_genie_qbo.credit.application"]
            .sudo()
            .search([("move_id", "=", refund.id)])
        )
        self.assertTrue(application, "the application is to be sent")
        self.assertTrue(application.qbo_push_dirty)
        self.assertTrue(refund.qbo_push_dirty)

    def test_no_browser_context_unties_a_payment_from_its_journal_entry(self):
        """The importer rewrites an imported payment's journal entry itself and switches Odoo's
        payment -> entry synchronisation off in code (a Python object a browser cannot send):
        an accountant sending that switch by name with an edit still gets the entry updated."""
        journal = self.env["account.journal"].search(
            [("company_id", "=", self.company_a.id), ("type", "=", "bank")], limit=1
        )
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 100.0,
                "journal_id": journal.id,
            }
        )
        payment.action_post()
        self.login(self.plain)
        for method, args in (("action_draft", []), ("write", [{"amount": 75.0}])):
            _text, body = self.rpc(
                "account.payment",
                method,
                [payment.ids, *args],
                company=self.company_a,
                context={"qbo_skip_move_sync": True},
            )
            self.assertNotIn("error", body, body)
        payment.invalidate_recordset()
        liquidity = payment.move_id.line_ids.filtered(lambda ln: ln.debit)
        self.assertEqual(payment.amount, 75.0)
        self.assertEqual(sum(liquidity.mapped("debit")), 75.0, "the entry follows the payment")
