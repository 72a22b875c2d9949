"""Outbound sync (Odoo -> QuickBooks Online): the push state shared by contacts, invoices and
payments.

ORM overrides only set the dirty flag (``qbo_push_dirty``) and trigger the push cron; the
cron (or the Sync button's run) does the API calls. Writes made by the inbound sync carry the
context key ``qbo_no_push`` so that a change read from QuickBooks is never bounced back.
"""

import hashlib

from odoo import api, fields, models
from odoo.exceptions import AccessError

PUSH_STATES = [
    ("pending", "Waiting to be sent"),
    ("held", "Held"),
    ("error", "Error"),
    ("unknown", "Sent, answer lost"),
    ("done", "Sent"),
    ("skipped", "Not sent"),
]
# States the push cron picks up by itself (errors wait for a change or a Retry).
RUNNABLE_STATES = ("pending", "unknown")
NO_PUSH_KEY = "qbo_no_push"
# The engine's switches in a context: a browser sends only JSON values, so a switch whose value
# must be this object (``context.get(key) is ENGINE``) cannot be forged through JSON-RPC.
ENGINE = type("EngineSwitch", (), {"__repr__": lambda self: "ENGINE", "__slots__": ()})()


def without_engine_context(records):
    """``records`` with the browser's ``qbo_*`` context keys dropped (the engine's tuning and
    switches: page sizes, slices, force, no-push): what an interactive button runs the engine
    with. (The engine sets its own keys afterwards, in code.)"""
    context = {k: v for k, v in records.env.context.items() if not k.startswith("qbo_")}
    if len(context) == len(records.env.context):
        return records
    # Replacing the whole context is the point: keys are dropped, not set.
    return records.with_context(context)  # pylint: disable=context-overridden


CRON_PUSH = "biller_genie_qbo.ir_cron_qbo_push"
# The push's own state: written by the engine only (see QboPushMixin._qbo_engine_fields).
ENGINE_FIELDS = frozenset(
    {
        "qbo_push_dirty",
        "qbo_push_state",
        "qbo_push_message",
        "qbo_push_seq",
        "qbo_push_request_id",
        "qbo_not_duplicate",
    }
)


def request_id(*parts):
    """A deterministic Intuit ``requestid`` (hex, 32 chars) for these parts."""
    text = "|".join(str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class QboPushMixin(models.AbstractModel):
    _name = "biller_genie_qbo.push.mixin"
    _description = "QuickBooks Online Outbound Sync State"

    qbo_push_dirty = fields.Boolean(
        "To Send to QuickBooks",
        copy=False,
        index="btree_not_null",
        help="Changed in Odoo since it was last sent to QuickBooks Online.",
    )
    qbo_push_state = fields.Selection(
        PUSH_STATES, string="QuickBooks Push", copy=False, readonly=True
    )
    qbo_push_message = fields.Text("QuickBooks Push Message", copy=False, readonly=True)
    qbo_push_seq = fields.Integer(
        "QuickBooks Push Attempt",
        copy=False,
        readonly=True,
        help="Incremented after every definitive answer of QuickBooks; part of the requestid.",
    )
    qbo_push_request_id = fields.Char(
        "Pending requestid",
        copy=False,
        readonly=True,
        help="The requestid of a write whose answer was lost (timeout): the next attempt "
        "re-sends it with the same requestid, so QuickBooks replays its first answer instead "
        "of creating a second record.",
    )

    qbo_not_duplicate = fields.Boolean(
        "Not a QuickBooks Duplicate",
        copy=False,
        readonly=True,
        help="The user decided, in the duplicate review, that this record is not the one it "
        "looks like on the other side ('Create anyway'): it is sent without being asked again.",
    )

    # ------------------------------------------------------------------
    # The engine's fields are the engine's
    # ------------------------------------------------------------------
    def _qbo_trusted(self):
        """The engine (superuser) or a system administrator: who may write the push's state
        and switch the push off (``qbo_no_push``). A browser's context is not trusted: an
        accountant could otherwise keep a posted change out of QuickBooks without a trace,
        or forge the exactly-once key of a write."""
        return self.env.su or self.env.is_system()

    def _qbo_engine_fields(self):
        """Fields only the engine writes (extended per model)."""
        return ENGINE_FIELDS

    def _qbo_check_engine_fields(self, fnames):
        if self._qbo_trusted():
            return
        refused = set(fnames) & self._qbo_engine_fields()
        if refused:
            raise AccessError(
                self.env._(
                    "QuickBooks Online keeps these fields itself: %(fields)s.",
                    fields=", ".join(sorted(refused)),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._qbo_check_engine_fields(vals)
        return super().create(vals_list)

    def write(self, vals):
        """The engine's fields are the engine's; a change of a synced field sets the dirty
        flag. The one place for every pushed model: the mixin comes last in their MRO, so this
        runs right above ``BaseModel.write``, once the values are stored (``_qbo_pushable``
        reads them), inside the model's own ``write`` chain."""
        self._qbo_check_engine_fields(vals)
        result = super().write(vals)
        self._qbo_mark_dirty(vals.keys())
        return result

    def _qbo_synced_fields(self):
        """Fields whose change must be sent to QuickBooks Online."""
        return set()

    def _qbo_pushable(self):
        """The records of ``self`` that the push handles at all (company connected...)."""
        return self.browse()

    def _qbo_mark_dirty(self, vals_keys=None):
        """Set the dirty flag on the pushable records when a synced field changed; trigger the
        push cron. Never calls QuickBooks."""
        if not self or (self.env.context.get(NO_PUSH_KEY) and self._qbo_trusted()):
            return
        if vals_keys is not None and not set(vals_keys) & self._qbo_synced_fields():
            return
        todo = self._qbo_pushable()
        if not todo:
            return
        vals = {"qbo_push_dirty": True, "qbo_push_state": "pending", "qbo_push_message": False}
        for records in (todo, *todo._qbo_stuck_dependents()):
            records.with_context(**{NO_PUSH_KEY: True}).sudo().write(vals)
        cron = self.env.ref(CRON_PUSH, raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()

    def _qbo_stuck_dependents(self):
        """A contact changed in Odoo (renamed, reactivated, completed): the documents of its
        customer that failed or were held are sent again with it, without a Retry (their
        failure often named the contact). Returns recordsets (none for other models)."""
        if self._name != "res.partner":
            return ()
        customers = self.commercial_partner_id.ids
        stuck = [("partner_id", "child_of", customers), ("qbo_push_state", "in", ("error", "held"))]
        moves = self.env["account.move"].sudo().search(stuck)
        payments = self.env["account.payment"].sudo().search(stuck)
        return moves._qbo_pushable(), payments._qbo_pushable()

    @api.model
    def _qbo_connections_of(self, companies):
        """{company id: connection} of the companies linked to a QuickBooks company (1 query).
        A connection that is temporarily disconnected still collects changes."""
        if not companies:
            return {}
        connections = (
            self.env["biller_genie_qbo.connection"]
            .sudo()
            .search([("company_id", "in", companies.ids), ("realm_id", "!=", False)])
        )
        return {conn.company_id.id: conn for conn in connections}


class QboPushProblem(Exception):
    """A record that cannot be sent as it is; explained before QuickBooks is called.

    ``held``: the push waits for a configuration fix (mapping, Custom Transaction Numbers) and
    resumes by itself once it is made; otherwise the record is in error until changed or
    retried."""

    def __init__(self, message, code="preflight", held=False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.held = held
