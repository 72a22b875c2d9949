"""The audit trail: every change the sync applies from QuickBooks to an invoice, a payment or a
contact posts ONE chatter note saying what changed (old -> new) and that it came from
QuickBooks (entity, DocNumber, change time); cancellations too. A posted entry in a locked
period is not changed: it is held with a clear error."""

from datetime import datetime, timedelta, timezone

from odoo.tests import tagged

from .common import QboImportedCommon
from .test_sync_invoice import _item_line


@tagged("post_install", "-at_install")
class TestSyncAudit(QboImportedCommon):
    def notes(self, record, since_id=0):
        return record.message_ids.filtered(lambda m: m.id > since_id and m.message_type != "email")

    def last_message_id(self):
        return self.env["mail.message"].sudo().search([], order="id desc", limit=1).id

    def open_invoice(self):
        return next(
            i
            for i in self.qbo_entities("Invoice")
            if i["Balance"] == i["TotalAmt"]
            and float(i["TotalAmt"])
            and i.get("PrivateNote") != "Voided"
        )

    def test_invoice_changed_in_qbo_tells_its_story_once(self):
        remote = self.open_invoice()
        move = self.bound("Invoice", remote["Id"])
        old_total = move.amount_total
        mark = self.last_message_id()
        lines = [ln for ln in remote["Line"] if ln["DetailType"] != "SubTotalLineDetail"]
        item = self.qbo_entities("Item")[0]
        lines.append(_item_line(item["Id"], 2, 15.75, description="Extra hours"))
        edited = self.qbo_edit("Invoice", remote["Id"], Line=lines)
        run = self.qbo_sync()
        self.assertRunOk(run)
        self.assertEqual(run.entity_counts["Invoice"]["updated"], 1)
        self.assertAlmostEqual(move.amount_total, old_total + 31.5)
        notes = self.notes(move, mark)
        self.assertEqual(len(notes), 1, "one note for the change")
        body = str(notes.body)
        self.assertIn(f"Changed in QuickBooks Online: Invoice #{remote['DocNumber']}", body)
        self.assertIn("UTC", body)
        # QuickBooks answers in the company's zone (-08:00): the note says it in UTC, to the
        # second (on another day than QuickBooks' own between 16:00 and 24:00 Pacific).
        when = datetime.fromisoformat(edited["MetaData"]["LastUpdatedTime"])
        when = when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        self.assertIn(f"{when} UTC", body, "the change time in QuickBooks")
        self.assertIn("Total", body)
        self.assertIn(f"{old_total:,.2f}", body, "the old total")
        self.assertIn(f"{move.amount_total:,.2f}", body, "the new total")
        self.assertIn("Line added: Extra hours", body)
        self.assertIn("→", body)

        # The next sync, nothing changed: no note.
        mark = self.last_message_id()
        self.assertRunOk(self.qbo_sync())
        self.assertFalse(self.notes(move, mark))

    def test_void_in_qbo_is_one_note_naming_the_document(self):
        remote = self.open_invoice()
        move = self.bound("Invoice", remote["Id"])
        mark = self.last_message_id()
        self.control.void_entity(self.realm_id, "Invoice", remote["Id"])
        self.assertRunOk(self.qbo_sync())
        self.assertEqual(move.state, "cancel")
        notes = self.notes(move, mark)
        self.assertEqual(len(notes), 1)
        self.assertIn("Voided in QuickBooks", str(notes.body))
        self.assertIn(f"Invoice #{remote['DocNumber']}", str(notes.body))

    def test_locked_period_holds_the_change(self):
        remote = self.open_invoice()
        move = self.bound("Invoice", remote["Id"])
        old_total = move.amount_total
        self.env.company.sudo().fiscalyear_lock_date = move.date + timedelta(days=1)
        mark = self.last_message_id()
        lines = [ln for ln in remote["Line"] if ln["DetailType"] != "SubTotalLineDetail"]
        lines.append(_item_line(self.qbo_entities("Item")[0]["Id"], 1, 50.0))
        self.qbo_edit("Invoice", remote["Id"], Line=lines)
        run = self.qbo_sync()
        self.assertEqual(move.state, "posted")
        self.assertAlmostEqual(move.amount_total, old_total, msg="not changed silently")
        self.assertFalse(self.notes(move, mark))
        error = run.error_ids.filtered(lambda e: e.qbo_id == remote["Id"])
        self.assertEqual(error.code, "locked_period")
        self.assertIn("locked period", error.message)
        self.assertIn(f"#{remote['DocNumber']}", error.message)
        binding = (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search([("qbo_entity", "=", "Invoice"), ("qbo_id", "=", remote["Id"])])
        )
        self.assertEqual(binding.state, "error")

        # Unlocked: the next sync applies it (the record changed in QBO is re-read).
        self.env.company.sudo().fiscalyear_lock_date = False
        self.connection.sudo()._qbo_sync_ids({"Invoice": [remote["Id"]]}, trigger="retry")
        self.assertAlmostEqual(move.amount_total, old_total + 50)
        self.assertEqual(len(self.notes(move, mark)), 1)

    def test_customer_change_is_noted(self):
        remote = next(c for c in self.qbo_entities("Customer") if c["DisplayName"] == "Mark Cho")
        partner = self.bound("Customer", remote["Id"])
        old_email = partner.email
        mark = self.last_message_id()
        self.qbo_edit("Customer", remote["Id"], PrimaryEmailAddr={"Address": "mark@cho.example"})
        self.assertRunOk(self.qbo_sync())
        notes = self.notes(partner, mark)
        self.assertEqual(len(notes), 1)
        body = str(notes.body)
        self.assertIn("Changed in QuickBooks Online: Customer #", body)
        self.assertIn(f"{old_email or '-'} → mark@cho.example", body)

    def test_payment_change_is_noted(self):
        remote = next(
            p
            for p in self.qbo_entities("Payment")
            if len(p.get("Line") or []) == 1 and float(p["TotalAmt"]) > 10
        )
        payment = self.bound("Payment", remote["Id"])
        old_amount = payment.amount
        mark = self.last_message_id()
        line = dict(remote["Line"][0], Amount=round(float(remote["TotalAmt"]) - 5, 2))
        self.qbo_edit("Payment", remote["Id"], Line=[line], TotalAmt=line["Amount"])
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        self.assertAlmostEqual(payment.amount, old_amount - 5)
        notes = self.notes(payment, mark)
        self.assertEqual(len(notes), 1, notes.mapped("body"))
        self.assertIn("Changed in QuickBooks Online: Payment #", str(notes.body))
        self.assertIn("Amount", str(notes.body))
