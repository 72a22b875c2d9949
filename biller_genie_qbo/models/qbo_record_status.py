"""QuickBooks Online on the records it syncs: the smart button of invoices, credit notes,
payments and contacts ("In QuickBooks: #1043, synced 5 min ago", or why it is held or failed),
opening the record's binding. Inherited by account.move, account.payment and res.partner."""

from odoo import fields, models


def ago(env, moment):
    """'5 min ago', '3 h ago', '2 days ago' (from the server's clock)."""
    seconds = max(0, int((fields.Datetime.now() - moment).total_seconds()))
    if seconds < 60:
        return env._("just now")
    if seconds < 3600:
        return env._("%(count)s min ago", count=seconds // 60)
    if seconds < 86400:
        return env._("%(count)s h ago", count=seconds // 3600)
    return env._("%(count)s days ago", count=seconds // 86400)


class QboRecordStatus(models.AbstractModel):
    _name = "biller_genie_qbo.record.status"
    _description = "QuickBooks Online Status of a Synced Record"

    qbo_binding_id = fields.Many2one(
        "biller_genie_qbo.binding",
        "QuickBooks Link",
        compute="_compute_qbo_status",
        groups="biller_genie_qbo.group_qbo_user",
    )
    qbo_status = fields.Char(
        "In QuickBooks",
        compute="_compute_qbo_status",
        groups="biller_genie_qbo.group_qbo_user",
    )
    qbo_status_level = fields.Selection(
        [("ok", "Synced"), ("wait", "Waiting"), ("problem", "Problem")],
        compute="_compute_qbo_status",
        groups="biller_genie_qbo.group_qbo_user",
    )

    def _qbo_badge_number(self, binding):
        """The number a user knows the record by in QuickBooks (an entry's DocNumber)."""
        if self._name == "account.move":
            return self.qbo_doc_number or (self.name if self.name != "/" else binding.qbo_id)
        return binding.qbo_id

    def _compute_qbo_status(self):
        bindings = (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search(
                [("res_model", "=", self._name), ("res_id", "in", self._origin.ids)],
                order="sync_date desc",
            )
        )
        by_id = {}
        for binding in bindings:
            by_id.setdefault(binding.res_id, binding)
        for record in self:
            binding = by_id.get(record._origin.id, bindings.browse())
            push_state = record.qbo_push_state if "qbo_push_state" in record else False
            record.qbo_binding_id = binding
            record.qbo_status, record.qbo_status_level = record._qbo_status_text(
                binding, push_state
            )

    def _qbo_status_text(self, binding, push_state):
        env = self.env
        if push_state == "held":
            return env._("Held: see the banner"), "problem"
        if push_state in ("error", "unknown"):
            return env._("Not sent: see the banner"), "problem"
        if binding.state == "error":
            return env._("Failed: %(error)s", error=(binding.error or "")[:60]), "problem"
        if binding.state in ("voided", "deleted"):
            label = dict(binding._fields["state"]._description_selection(env))[binding.state]
            return f"#{self._qbo_badge_number(binding)}: {label}", "ok"
        if push_state == "pending" and self.qbo_push_dirty:
            return env._("Waiting to be sent"), "wait"
        if binding:
            return (
                env._(
                    "#%(number)s, synced %(ago)s",
                    number=self._qbo_badge_number(binding),
                    ago=ago(env, binding.sync_date) if binding.sync_date else "-",
                ),
                "ok",
            )
        return False, False

    def action_qbo_open_binding(self):
        self.ensure_one()
        binding = self.qbo_binding_id
        if not binding:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": "biller_genie_qbo.binding",
            "res_id": binding.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }
