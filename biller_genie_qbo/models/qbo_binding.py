"""One row per synced record: (connection, QBO entity, QBO Id) <-> (Odoo model, record).

Every match between QuickBooks Online and Odoo goes through this table: a QBO entity is never
matched twice (unique per connection, entity and Id) and an Odoo record is bound at most once
per connection (unique per connection, model and record).
"""

from odoo import api, fields, models

from ..tools.qbo_errors import QboPayloadError
from ..tools.qbo_time import parse_intuit_time

# QBO entities handled by the inbound sync, in dependency order.
QBO_ENTITIES = [
    ("Item", "Item"),
    ("Customer", "Customer"),
    ("Invoice", "Invoice"),
    ("SalesReceipt", "Sales Receipt"),
    ("CreditMemo", "Credit Memo"),
    ("Payment", "Payment"),
    ("RefundReceipt", "Refund Receipt"),
]


class QboBinding(models.Model):
    _name = "biller_genie_qbo.binding"
    _inherit = "biller_genie_qbo.connection.owned"
    _description = "QuickBooks Online Binding"
    _order = "connection_id, qbo_entity, id"
    _rec_names_search = ["qbo_id", "res_model"]

    qbo_entity = fields.Selection(QBO_ENTITIES, string="QuickBooks Entity", required=True)
    qbo_id = fields.Char("QuickBooks ID", required=True)
    res_model = fields.Char("Odoo Model", required=True, index=True)
    res_id = fields.Many2oneReference("Odoo Record", model_field="res_model", required=True)
    qbo_sync_token = fields.Char("SyncToken", help="The SyncToken last seen in QuickBooks.")
    qbo_last_updated = fields.Datetime(
        "QuickBooks Last Updated", help="MetaData.LastUpdatedTime last seen (UTC)."
    )
    qbo_hash = fields.Char(
        "Content Digest", help="Digest of the Odoo values last applied (change detection)."
    )
    sync_date = fields.Datetime("Last Synced", default=fields.Datetime.now)
    state = fields.Selection(
        [
            ("synced", "Synced"),
            ("error", "Error"),
            ("voided", "Voided"),
            ("deleted", "Deleted in QuickBooks"),
        ],
        default="synced",
        required=True,
    )
    error = fields.Text()
    qbo_waiting = fields.Char(
        "Waiting For",
        index="btree_not_null",
        help="QuickBooks documents this payment is applied to that Odoo does not have yet "
        "(',Invoice:123,'): its money is a customer credit until they arrive.",
    )

    _sql_constraints = [
        (
            "qbo_uniq",
            "unique(connection_id, qbo_entity, qbo_id)",
            "This QuickBooks record is bound already.",
        ),
        (
            "record_uniq",
            "unique(connection_id, res_model, res_id)",
            "This Odoo record is bound to a QuickBooks record already.",
        ),
    ]

    @api.depends("qbo_entity", "qbo_id")
    def _compute_display_name(self):
        labels = dict(QBO_ENTITIES)
        for binding in self:
            binding.display_name = f"{labels.get(binding.qbo_entity, '')} {binding.qbo_id}"

    # ------------------------------------------------------------------
    # Batch helpers (one query per page, never one per record)
    # ------------------------------------------------------------------
    @api.model
    def _qbo_fetch(self, connection, entity, qbo_ids):
        """Bindings of `entity` for these QBO ids: {qbo_id: binding}, in one query (plus one
        per bound model). A binding whose Odoo record was deleted is dropped on the way: that
        QBO record is then imported again instead of being written to a record that is gone."""
        if not qbo_ids:
            return {}
        bindings = self.search(
            [
                ("connection_id", "=", connection.id),
                ("qbo_entity", "=", entity),
                ("qbo_id", "in", list(set(qbo_ids))),
            ]
        )
        orphans = self.browse()
        for model in set(bindings.mapped("res_model")):
            of_model = bindings.filtered(lambda b, m=model: b.res_model == m)
            alive = set(self.env[model].browse(of_model.mapped("res_id")).exists().ids)
            orphans |= of_model.filtered(lambda b, ids=alive: b.res_id not in ids)
        if orphans:
            orphans.unlink()
        return {b.qbo_id: b for b in bindings - orphans}

    @api.model
    def _qbo_fetch_records(self, connection, res_model, res_ids):
        """Bindings of these Odoo records: {res_id: binding}, in one query."""
        if not res_ids:
            return {}
        bindings = self.search(
            [
                ("connection_id", "=", connection.id),
                ("res_model", "=", res_model),
                ("res_id", "in", list(set(res_ids))),
            ]
        )
        return {b.res_id: b for b in bindings}

    def _qbo_updated(self, remote, digest, *, voided, result):
        """The bound record was updated from ``remote``: store what was applied, count it."""
        self.write(
            self._qbo_remote_vals(
                remote, qbo_hash=digest, state="voided" if voided else "synced", error=False
            )
        )
        result.count("updated")
        result.ok_ids.append(str(remote["Id"]))

    @api.model
    def _qbo_remote_vals(self, remote, **extra):
        """SyncToken and LastUpdatedTime of a QBO payload, as binding values (plus extra)."""
        meta = remote.get("MetaData") or {}
        return {
            "qbo_sync_token": remote.get("SyncToken"),
            "qbo_last_updated": parse_qbo_datetime(meta.get("LastUpdatedTime")),
            "sync_date": fields.Datetime.now(),
            **extra,
        }

    @api.model
    def _qbo_new_vals(self, connection, entity, remote, record, **extra):
        """Values of a new binding between a QBO payload and an Odoo record."""
        return self._qbo_remote_vals(
            remote,
            connection_id=connection.id,
            qbo_entity=entity,
            qbo_id=str(remote["Id"]),
            res_model=record._name,
            res_id=record.id,
            **extra,
        )

    def action_open_record(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "target": "current",
        }


def parse_qbo_datetime(value):
    """Intuit's time with offset (2024-01-31T10:20:30-08:00) -> naive UTC datetime, to the
    second (what the binding stores); False when empty or unreadable."""
    try:
        moment = parse_intuit_time(value if isinstance(value, str) else None)
    except QboPayloadError:
        return False
    return moment.replace(microsecond=0) if moment else False
