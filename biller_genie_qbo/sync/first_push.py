"""Safe first contact, outbound (issue 17): a connection may be read-only (it pulls, it never
writes to QuickBooks), and nothing is sent before a manager saw what the first push would do
("would create N customers, M invoices, K payments; X matched to existing records") and
confirmed it. The preview costs no API call: it counts Odoo's records and the bindings the
first import made (a QuickBooks customer met again is bound, never created twice), and the
contacts that look like a bound customer (held for the duplicate review, sync/duplicates/)."""

from odoo import fields

from .common import Engine
from .duplicates import bound_twins


def may_write(conn):
    """Whether the push may write to QuickBooks for this connection."""
    return not conn.qbo_read_only and bool(conn.qbo_push_confirmed_at)


class FirstPush(Engine):
    """The preview and the confirmation of a connection's first push."""

    def counts(self):
        """{customers, invoices, refunds, payments, matched}: what the push would create (and
        the customers of those documents already bound to a QuickBooks customer)."""
        from .push import PushEngine  # (push.py imports this module)

        self.conn.ensure_one()
        push = PushEngine(self.conn)
        Binding = self.env["biller_genie_qbo.binding"].sudo()
        out = {}
        docs = self.env["account.move"]
        for key, model, extra in (
            ("invoices", "account.move", [("move_type", "=", "out_invoice")]),
            ("refunds", "account.move", [("move_type", "=", "out_refund")]),
            ("payments", "account.payment", []),
        ):
            domain = [*push.domain(model, base=True), *extra, ("state", "!=", "cancel")]
            records = self.env[model].sudo().search(domain)
            bound = Binding._qbo_fetch_records(self.conn, model, records.ids)
            new = records.filtered(lambda r, b=bound: r.id not in b)
            out[key] = len(new)
            docs |= new if model == "account.move" else new.move_id
        partners = docs.partner_id.commercial_partner_id
        bound = Binding._qbo_fetch_records(self.conn, "res.partner", partners.ids)
        twins = bound_twins(self.env, self.conn, partners.filtered(lambda p: p.id not in bound))
        out["matched"] = len(bound)
        out["suspects"] = len(twins)
        out["customers"] = len(partners) - len(bound) - len(twins)
        return out

    def message(self):
        """The page's banner ('' when the push may write, or a read-only note)."""
        conn = self.conn
        if conn.qbo_read_only:
            return self.env._(
                "Read-only: Odoo reads QuickBooks Online and never writes to it. Turn read-only "
                "off to send Odoo's customers, invoices and payments."
            )
        if conn.qbo_push_confirmed_at or conn.state != "connected":
            return ""
        c = self.counts()
        text = self.env._(
            "Nothing is sent to QuickBooks Online before you confirm. The first push would "
            "create %(customers)s customers, %(invoices)s invoices, %(refunds)s credit notes "
            "and %(payments)s payments; %(matched)s customers are matched to existing "
            "QuickBooks customers (linked, not created).",
            **c,
        )
        if c["suspects"]:
            text += " " + self.env._(
                "%(suspects)s customers look like existing QuickBooks customers: they are held "
                "for your review in the failures queue (Link to this one / Create anyway).",
                suspects=c["suspects"],
            )
        return text

    def confirm(self):
        """The manager saw the preview: the push may write from now on."""
        self.conn.sudo().write({"qbo_push_confirmed_at": fields.Datetime.now()})
