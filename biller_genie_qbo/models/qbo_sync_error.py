"""The per-record sync errors of the sync history, and the failure queue: each error is a
work item with Intuit's codes in plain words, Retry and Dismiss, automatic retries with backoff
and a give-up after a few attempts.

One record = one live work item: when the same record fails again, the new error inherits the
attempts of the previous one, which is marked superseded (it stays in the sync history).
"""

import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError

from .. import const
from ..sync.common import can_commit, commit
from .qbo_binding import QBO_ENTITIES
from .qbo_push_mixin import without_engine_context

_logger = logging.getLogger(__name__)

ACTIVE_STATES = const.ACTIVE_STATES
SUSPECT_CODE = const.SUSPECT_CODE
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=5)  # 5 min, 20 min, 80 min, 5 h 20 min, then given up
RETRY_FACTOR = 4
RETRY_BATCH = 200


def next_retry_delay(attempts):
    """Backoff before the next automatic retry after ``attempts`` failed attempts."""
    return RETRY_BASE * (RETRY_FACTOR ** max(0, attempts - 1))


class QboSyncError(models.Model):
    _name = "biller_genie_qbo.sync.error"
    _description = "QuickBooks Online Sync Error"
    _order = "id desc"
    _check_company_auto = True

    run_id = fields.Many2one(
        "biller_genie_qbo.sync.run", required=True, ondelete="cascade", index=True
    )
    connection_id = fields.Many2one(
        related="run_id.connection_id", store=True, index=True, readonly=True
    )
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    qbo_entity = fields.Selection(QBO_ENTITIES, string="QuickBooks Entity")
    qbo_id = fields.Char("QuickBooks ID")
    res_model = fields.Char("Odoo Model")
    res_id = fields.Many2oneReference("Odoo Record", model_field="res_model")
    code = fields.Char(help="Intuit's error code, or ours (mapping, odoo).")
    message = fields.Text(required=True)
    detail = fields.Text()
    intuit_tid = fields.Char("intuit_tid", help="Intuit's transaction id, for Intuit support.")
    state = fields.Selection(
        [
            ("open", "Open"),
            ("resolved", "Resolved"),
            ("retrying", "Retrying"),
            ("given_up", "Given up"),
            ("dismissed", "Dismissed"),
            ("superseded", "Superseded"),
        ],
        default="open",
        required=True,
        index=True,
    )
    create_date = fields.Datetime("Date", readonly=True)
    # Duplicate-suspect review (sync/duplicates/): the likely twin of the record, on the
    # other side, that the user links to or creates anyway.
    twin_model = fields.Char(readonly=True)
    twin_res_id = fields.Many2oneReference("Twin Record", model_field="twin_model", readonly=True)
    twin_qbo_id = fields.Char("Twin QuickBooks ID", readonly=True)
    twin_sync_token = fields.Char("Twin SyncToken", readonly=True)
    twin_name = fields.Char("Looks Like", readonly=True, help="The likely twin, in plain words.")
    twin_decision = fields.Selection(
        [("link", "Linked to the twin"), ("create", "Created anyway")],
        readonly=True,
        help="The user's decision on a duplicate suspect (never asked again).",
    )

    @api.depends("qbo_entity", "qbo_id", "message")
    def _compute_display_name(self):
        for error in self:
            error.display_name = f"{error.qbo_entity or ''} {error.qbo_id or ''}: {error.message}"

    @api.model
    def _qbo_resolve(self, connection, entity, qbo_ids):
        """Close the open errors of these records (they synced fine since)."""
        if not qbo_ids:
            return
        self.search(
            [
                ("connection_id", "=", connection.id),
                ("qbo_entity", "=", entity),
                ("qbo_id", "in", list(qbo_ids)),
                ("state", "=", "open"),
            ]
        ).write({"state": "resolved"})
        self.search(
            [
                ("connection_id", "=", connection.id),
                ("qbo_entity", "=", entity),
                ("qbo_id", "in", list(qbo_ids)),
                ("direction", "=", "pull"),
                ("state", "in", ("retrying", "given_up")),
            ]
        ).write({"state": "resolved", "next_retry_at": False})

    direction = fields.Selection(
        [("pull", "QuickBooks → Odoo"), ("push", "Odoo → QuickBooks")],
        default="pull",
        required=True,
    )
    attempts = fields.Integer(
        default=0, readonly=True, help="Retries already made (automatic and manual)."
    )
    next_retry_at = fields.Datetime("Next Retry", readonly=True, index=True)
    explanation = fields.Text("What It Means", compute="_compute_explanation")
    raised_by = fields.Selection(
        [("odoo", "Odoo check"), ("qbo", "QuickBooks Online")],
        compute="_compute_explanation",
        help="Who refused the record: one of Odoo's checks before QuickBooks was involved, or "
        "QuickBooks Online's answer.",
    )

    # ------------------------------------------------------------------
    # Intuit's codes in plain words
    # ------------------------------------------------------------------
    def _qbo_code_explanations(self):
        duplicate_number = self.env._(
            "Duplicate document number: another transaction in QuickBooks Online already uses "
            "this number. Change the number in Odoo, or set Custom Transaction Numbers to No so "
            "QuickBooks numbers its own transactions, then retry."
        )
        return {
            const.HELD_CUSTOMER_CODE: self.env._(
                "Its customer (for a sub-customer, its parent) waits for your decision in the "
                'duplicate review (the item "looks like" of that customer in this queue: Link '
                "to this one or Create anyway). It comes in right after the decision."
            ),
            "610": self.env._(
                "Object not found: the record, or something it refers to (customer, item, "
                "account), was deleted or made inactive in QuickBooks Online. Reactivate it in "
                "QuickBooks or correct the reference in Odoo, then retry."
            ),
            "2010": self.env._(
                "QuickBooks Online does not accept one of the fields sent (invalid or "
                "unsupported property). Check the record's values; if it keeps failing, contact "
                "support with these details."
            ),
            "2020": self.env._(
                "A required value is missing (for example the customer, an item or an amount). "
                "Complete the record in Odoo, then retry."
            ),
            "2030": self.env._(
                "An invalid QuickBooks ID was sent. Retry; if it persists, contact support."
            ),
            "2050": self.env._(
                "A value is too long for QuickBooks Online (for example a name over 100 "
                "characters or an invoice number over 21). Shorten it in Odoo, then retry."
            ),
            "3001": self.env._(
                "QuickBooks Online's request limit was reached (throttling). Nothing is wrong "
                "with the record: it is retried automatically a little later."
            ),
            "3100": self.env._(
                "QuickBooks Online refused access: the app is not authorized for this company "
                "or this kind of data. Reconnect to QuickBooks from the QuickBooks Online page."
            ),
            "3200": self.env._(
                "Authentication failed: the authorization tokens expired or were revoked. "
                "Reconnect to QuickBooks from the QuickBooks Online page."
            ),
            "5010": self.env._(
                "Stale object: someone changed this record in QuickBooks Online while Odoo was "
                "updating it. Retry: Odoo reads the latest version first."
            ),
            "6000": self.env._(
                "Business validation error: QuickBooks Online refused the record because of an "
                "accounting rule (see the detail, e.g. a closed period or an amount that does "
                "not match). Correct it, then retry."
            ),
            "6140": duplicate_number,
            "6210": duplicate_number,
            "6190": self.env._(
                "Invalid company status: the QuickBooks Online subscription has ended or is "
                "suspended. Reactivate it in QuickBooks, then retry."
            ),
            "6240": self.env._(
                "Duplicate name: another customer, vendor or employee in QuickBooks Online "
                "already uses this name (names must be unique across these lists). Rename one "
                "of them, then retry."
            ),
            "duplicate_suspect": self.env._(
                "Possible duplicate: a record that looks like this one (same email or name; "
                "same kind of document, customer and number or amount and date) already exists "
                "on the other side, so nothing was created. 'Link to this one' treats them as "
                "the same record (nothing is written to QuickBooks); 'Create anyway' creates it "
                "and never asks again."
            ),
            "currency_inactive": self.env._(
                "The QuickBooks transaction is in a currency that is not active in Odoo. "
                "Activate it in Accounting > Configuration > Currencies, then retry: it is "
                "imported in that currency with QuickBooks' exchange rate."
            ),
            "invalid_grant": self.env._(
                "QuickBooks Online no longer accepts our authorization (revoked or expired). "
                "Reconnect to QuickBooks from the QuickBooks Online page."
            ),
            "odoo": self.env._(
                "Odoo could not apply the change (see the message): correct the Odoo data, "
                "then retry."
            ),
        }

    @api.depends("code")
    def _compute_explanation(self):
        explanations = self._qbo_code_explanations()
        for error in self:
            code = (error.code or "").strip()
            text = explanations.get(code)
            if not text and (code.startswith("http_5") or code == "server_error"):
                text = self.env._(
                    "QuickBooks Online was unavailable or answered with a server error. It is "
                    "retried automatically."
                )
            if not text and code and not error._qbo_is_intuit_code(code):
                # Odoo's own checks: nothing was sent (or nothing applied); not Intuit's word.
                text = self.env._(
                    "Odoo's own check (%(code)s) stopped this record before QuickBooks Online "
                    "was involved: the message says what to correct in Odoo. It is retried "
                    "automatically when the record changes, or with Retry.",
                    code=code,
                )
            error.raised_by = "qbo" if not code or error._qbo_is_intuit_code(code) else "odoo"
            error.explanation = text or self.env._(
                "QuickBooks Online answered error %(code)s: see the message and the detail. "
                "Retry once corrected.",
                code=code or "?",
            )

    @api.model
    def _qbo_is_intuit_code(self, code):
        """Intuit's error codes are numbers (or OAuth's and HTTP's); ours are words."""
        return code.isdigit() or code in ("invalid_grant", "server_error") or code[:5] == "http_"

    # ------------------------------------------------------------------
    # One live work item per record
    # ------------------------------------------------------------------
    def _qbo_key(self):
        self.ensure_one()
        if self.qbo_entity and self.qbo_id:
            return (self.direction, "qbo", self.qbo_entity, self.qbo_id)
        return (self.direction, "odoo", self.res_model, self.res_id)

    @api.model_create_multi
    def create(self, vals_list):
        errors = super().create(vals_list)
        errors._qbo_supersede_previous()
        return errors

    def _qbo_supersede_previous(self):
        """A record failing again: carry the attempts over, close the older item."""
        if not self:
            return
        domain = [
            ("id", "not in", self.ids),
            ("connection_id", "in", self.connection_id.ids),
            ("state", "in", ACTIVE_STATES),
            "|",
            ("qbo_id", "in", [q for q in self.mapped("qbo_id") if q]),
            ("res_id", "in", [r for r in self.mapped("res_id") if r]),
        ]
        previous = {}
        for old in self.search(domain):
            key = (old.connection_id.id, old._qbo_key())
            previous[key] = previous.get(key, self.browse()) | old
        now = fields.Datetime.now()
        superseded = self.browse()
        for error in self:
            older = previous.get((error.connection_id.id, error._qbo_key()))
            attempts = max(older.mapped("attempts")) if older else 0
            vals = {"attempts": attempts, "next_retry_at": now + next_retry_delay(attempts)}
            if attempts >= MAX_ATTEMPTS:
                vals.update(state="given_up", next_retry_at=False)
            elif attempts:
                vals["state"] = "retrying"
            error.write(vals)
            if older:
                superseded |= older
        superseded.write({"state": "superseded", "next_retry_at": False})

    # ------------------------------------------------------------------
    # Retry and Dismiss
    # ------------------------------------------------------------------
    def action_retry(self):
        """Retry now (also a given-up item); returns a notification."""
        self._qbo_check_user()
        todo = self.filtered(lambda e: e.state in ACTIVE_STATES)
        connection = (todo or self).connection_id[:1]
        if not todo:
            return connection._qbo_notify(
                self.env._("Nothing to retry: these failures are resolved or dismissed."), "info"
            )
        runs = without_engine_context(todo.sudo())._qbo_retry()
        failed = [run for run in runs if run.state in ("failed", "warning")]
        still = todo.exists().filtered(lambda e: e.state in ACTIVE_STATES)
        if failed or still:
            first = (still[:1].message or "") if still else (failed[0].message or "")
            return connection._qbo_notify(
                self.env._(
                    "Retried %(count)s: %(ok)s synced, %(failing)s still failing. %(first)s",
                    count=len(todo),
                    ok=len(todo) - len(still),
                    failing=len(still) or len(todo),
                    first=first,
                ),
                "warning",
            )
        return connection._qbo_notify(
            self.env._("Retried %(count)s: all synced again.", count=len(todo)), "success"
        )

    def action_dismiss(self):
        """Stop retrying and hide from the queue (kept in the sync history)."""
        self._qbo_check_user()
        self.filtered(lambda e: e.state in ACTIVE_STATES).sudo().write(
            {"state": "dismissed", "next_retry_at": False}
        )
        return True

    # ------------------------------------------------------------------
    # Duplicate suspects: Link to this one / Create anyway
    # ------------------------------------------------------------------
    def action_twin_link(self):
        """The suspect and its twin are the same record: bind them (no API write)."""
        return self._qbo_twin_decide("link")

    def action_twin_create(self):
        """The suspect is not a duplicate: create it, and never ask again."""
        return self._qbo_twin_decide("create")

    def _qbo_twin_decide(self, decision):
        self._qbo_check_user(group="biller_genie_qbo.group_qbo_manager")
        todo = self.filtered(lambda e: e.code == SUSPECT_CODE and e.state in ACTIVE_STATES)
        connection = (todo or self).connection_id[:1]
        if not todo:
            return connection._qbo_notify(
                self.env._("Nothing to decide: these are not open duplicate suspects."), "info"
            )
        from ..sync import duplicates  # (the sync package imports the models' helpers)

        for item in without_engine_context(todo.sudo()):
            duplicates.decide(item, decision)
        still = todo.exists().filtered(lambda e: e.state in ACTIVE_STATES)
        if still:
            return connection._qbo_notify(still[:1].message or "", "warning")
        if decision == "link":
            text = self.env._("Linked %(count)s record(s) to their twin.", count=len(todo))
        else:
            text = self.env._("Created %(count)s record(s) anyway.", count=len(todo))
        return connection._qbo_notify(text, "success")

    def _qbo_check_user(self, group="biller_genie_qbo.group_qbo_user"):
        """Retry and Dismiss: QuickBooks Online users of the failures' companies only."""
        Connection = self.env["biller_genie_qbo.connection"]
        Connection._qbo_check_scope(self.sudo().company_id, group=group)
        try:
            self.check_access("read")
        except AccessError:
            raise AccessError(Connection._qbo_refusal()) from None

    def _qbo_retry(self):
        """Retry these items, one sync run per connection; returns the runs. Items still
        failing afterwards are rescheduled with backoff or given up."""
        runs = []
        for connection in self.connection_id:
            items = self.filtered(lambda e, c=connection: e.connection_id == c)
            for item in items:
                item.attempts += 1
            item_ids = items.ids
            pull = items.filtered(lambda e: e.direction == "pull" and e.qbo_entity and e.qbo_id)
            push = items - pull
            ids_by_entity = {}
            for item in pull:
                ids_by_entity.setdefault(item.qbo_entity, []).append(item.qbo_id)
            if ids_by_entity:
                runs.append(connection._qbo_sync_ids(ids_by_entity, trigger="retry"))
            if push:
                run = connection._qbo_retry_push(push)
                if run:
                    runs.append(run)
            # Still active (neither resolved nor superseded by a new error): reschedule.
            now = fields.Datetime.now()
            for item in self.browse(item_ids).exists():
                if item.state not in ACTIVE_STATES:
                    continue
                if item.attempts >= MAX_ATTEMPTS:
                    item.write({"state": "given_up", "next_retry_at": False})
                else:
                    item.write(
                        {
                            "state": "retrying",
                            "next_retry_at": now + next_retry_delay(item.attempts),
                        }
                    )
        return runs

    @api.model
    def _cron_qbo_retry_failures(self):
        """Retry the due items of every connected company. Never raises. The engine's
        records are the engine's: written as the superuser whoever the cron's user is."""
        now = fields.Datetime.now()
        due = self.sudo().search(
            [
                ("state", "in", ("open", "retrying")),
                ("code", "!=", SUSPECT_CODE),  # waits for the user's decision
                ("attempts", "<", MAX_ATTEMPTS),
                "|",
                ("next_retry_at", "=", False),
                ("next_retry_at", "<=", now),
                ("connection_id.state", "=", "connected"),
            ],
            order="next_retry_at, id",
            limit=RETRY_BATCH,
        )
        for connection in due.connection_id:
            items = due.filtered(lambda e, c=connection: e.connection_id == c)
            try:
                items.with_company(connection.company_id)._qbo_retry()
            except Exception:
                _logger.exception(
                    "QuickBooks connection %s: retrying %s failure(s) crashed",
                    connection.id,
                    len(items),
                )
                if can_commit():
                    self.env.cr.rollback()
            commit(self.env)
        if len(due) == RETRY_BATCH:
            self.env.ref("biller_genie_qbo.ir_cron_qbo_retry_failures")._trigger()
