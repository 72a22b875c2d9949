"""The invoice PDF in QuickBooks (issue 18): the PDF Odoo sent the customer (the invoice's
``invoice_pdf_report_file``, made by Send & Print) attached to its QuickBooks invoice with an
Attachable upload (a free call, made by ``tools/qbo_client.py``); sent again (a new PDF), the
QuickBooks attachment is replaced: the new one uploaded, then the old one deleted. Only PDFs,
and at most QuickBooks' 100 MB. Optional per company (page setting "Attach Invoice PDFs").

The candidates are found in one query: posted invoices bound to a QuickBooks invoice whose PDF
differs (checksum) from the one attached.
"""

import logging

from markupsafe import Markup

from odoo.tools import SQL

from ..tools.qbo_errors import QboError, QboNotFound

_logger = logging.getLogger(__name__)

MAX_SIZE = 100 * 1024 * 1024  # QuickBooks' limit per attachment
BATCH = 200  # invoices per push run (the next run does the rest)


def pdf_candidates(engine):
    """[(move, attachment)] of posted invoices whose PDF QuickBooks does not have yet."""
    env = engine.env
    env.cr.execute(
        SQL(
            """
            SELECT m.id, a.id
              FROM account_move m
              JOIN ir_attachment a ON a.res_model = 'account.move' AND a.res_id = m.id
                   AND a.res_field = 'invoice_pdf_report_file'
              JOIN biller_genie_qbo_binding b ON b.res_model = 'account.move' AND b.res_id = m.id
                   AND b.connection_id = %(conn)s AND b.qbo_entity = 'Invoice'
             WHERE m.company_id = %(company)s AND m.state = 'posted'
               AND m.move_type = 'out_invoice'
               AND m.qbo_pdf_checksum IS DISTINCT FROM a.checksum
             ORDER BY m.id
             LIMIT %(limit)s
            """,
            conn=engine.conn.id,
            company=engine.conn.company_id.id,
            limit=BATCH,
        )
    )
    rows = env.cr.fetchall()
    moves = env["account.move"].sudo().browse([r[0] for r in rows])
    attachments = env["ir.attachment"].sudo().browse([r[1] for r in rows])
    return list(zip(moves, attachments, strict=True))


def refusal(env, attachment):
    """Why this file is not attached (None when it is fine)."""
    if attachment.mimetype != "application/pdf" or not (attachment.raw or b"").startswith(b"%PDF"):
        return env._("The invoice's document is not a PDF: it is not attached in QuickBooks.")
    if (attachment.file_size or 0) > MAX_SIZE:
        return env._(
            "The invoice's PDF is %(size)s MB; QuickBooks Online accepts attachments of 100 MB "
            "at most: it is not attached.",
            size=round(attachment.file_size / 1024 / 1024, 1),
        )
    return None


def send_invoice_pdfs(engine):
    """Attach (or replace) the PDFs of the bound invoices that need it."""
    conn = engine.conn
    if engine.env["biller_genie_qbo.books"]._qbo_for(conn).qbo_attach_invoice_pdf != "yes":
        return
    candidates = pdf_candidates(engine)
    if not candidates:
        return
    bindings = engine.env["biller_genie_qbo.binding"]._qbo_fetch_records(
        conn, "account.move", [move.id for move, _a in candidates]
    )
    for move, attachment in candidates:
        problem = refusal(engine.env, attachment)
        if problem:
            move._message_log(body=Markup("<p>%s</p>") % problem)
            move.write({"qbo_pdf_checksum": attachment.checksum})  # said once
            continue
        binding = bindings.get(move.id)
        try:
            remote = engine.client.upload(
                attachment.name or f"{move.name}.pdf",
                attachment.raw,
                "application/pdf",
                {"type": "Invoice", "value": binding.qbo_id},
            )
        except QboError as error:
            _logger.warning(
                "QuickBooks connection %s: invoice PDF not attached (%s)", conn.id, error.code
            )
            move._message_log(
                body=Markup("<p>%s</p>")
                % engine.env._(
                    "The PDF could not be attached in QuickBooks Online: %(error)s",
                    error=error.message,
                )
            )
            continue
        old_id, old_token = move.qbo_pdf_attachable_id, move.qbo_pdf_sync_token
        move.write(
            {
                "qbo_pdf_attachable_id": str(remote["Id"]),
                "qbo_pdf_sync_token": str(remote.get("SyncToken", "0")),
                "qbo_pdf_checksum": attachment.checksum,
            }
        )
        if old_id:
            try:
                engine.client.delete("Attachable", old_id, old_token or "0")
            except QboError as error:  # QboNotFound: deleted in QuickBooks already
                if not isinstance(error, QboNotFound):
                    _logger.warning(
                        "QuickBooks connection %s: the previous invoice PDF was not deleted (%s)",
                        conn.id,
                        error.code,
                    )
        engine.commit()
