"""Intuit's webhook endpoint: verify, store, trigger, answer. No QuickBooks call here.

Intuit wants a 200 within 3 seconds and retries anything else (a 400 marks the whole batch as
failed and retries it forever), so the answers are:

- 405: anything but POST (Werkzeug would let a signed OPTIONS through);
- 403, nothing stored: no verifier token configured, or a missing or wrong ``intuit-signature``;
- 413: a body over :data:`MAX_BODY_SIZE`; 411: no Content-Length (a chunked body of unknown
  size is never read); 400: a body shorter than its Content-Length (the sender is gone);
- 200: stored (or known already), or well signed but unparseable (logged: it never will parse),
  or for a QuickBooks company no Odoo company is connected to (logged); an event of the
  delivery that cannot be read (bad id, NUL or lone surrogate in its text) is stored as
  rejected with its reason, the others as usual;
- 503: the events could not be stored, or not within :data:`LOCK_TIMEOUT` (Intuit delivers
  them again later). Never a 500.
"""

import logging
import time

from werkzeug.exceptions import ClientDisconnected

from odoo import SUPERUSER_ID, http
from odoo.http import request

from .. import const
from ..tools import qbo_webhook
from ..tools.qbo_crypto import QboKeyError
from ..tools.qbo_errors import QboPayloadError

_logger = logging.getLogger(__name__)

MAX_BODY_SIZE = 1024 * 1024  # Intuit: up to ~1 MB and 100 events per delivery
# Intuit gives up on an answer after 3 s: waiting longer for a lock on the inbox (a twin
# delivery still in flight, a table locked by maintenance) ends in a 503 it redelivers.
LOCK_TIMEOUT = "2s"


class QboWebhookController(http.Controller):
    # auth "none": Intuit is authenticated by the signature, not by an Odoo user, and "public"
    # would cost every delivery a query for the public user. The store runs as the superuser.
    # Without a database (several, no dbfilter) Odoo answers 404 itself: the route is not in
    # its no-database map, which holds server-wide modules only.
    @http.route(
        const.WEBHOOK_PATH,
        type="http",
        auth="none",
        readonly=False,  # "none" defaults to a read-only transaction; the inbox is written
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def qbo_webhook(self, **kwargs):
        started = time.perf_counter()
        try:
            status, answer = self._qbo_handle_webhook()
        except Exception:  # never a 500: Intuit would retry, and we log the cause
            _logger.exception("QuickBooks webhook: the events could not be stored")
            request.env.cr.rollback()
            status, answer = 503, "retry later"
        _logger.debug(
            "QuickBooks webhook answered %s in %.1f ms",
            status,
            (time.perf_counter() - started) * 1000,
        )
        headers = {503: [("Retry-After", "60")], 405: [("Allow", "POST")]}.get(status)
        return request.make_json_response({"status": answer}, headers=headers, status=status)

    def _qbo_handle_webhook(self):
        httprequest = request.httprequest
        if httprequest.method != "POST":
            # Werkzeug lets OPTIONS (and HEAD) through to a POST-only route.
            return 405, "method not allowed"
        length = httprequest.content_length
        if length is None:
            # Chunked: its size is unknown until read whole. Intuit always sends a length.
            _logger.warning("QuickBooks webhook refused: no Content-Length")
            return 411, "length required"
        if length > MAX_BODY_SIZE:
            _logger.warning("QuickBooks webhook refused: body of %s bytes is too large", length)
            return 413, "payload too large"
        try:
            raw = httprequest.get_data(cache=True)
        except ClientDisconnected:
            # Fewer bytes than Content-Length announced: the sender is gone, nothing to store.
            _logger.warning("QuickBooks webhook refused: the body is shorter than its length")
            return 400, "incomplete body"
        if len(raw) > MAX_BODY_SIZE:
            _logger.warning("QuickBooks webhook refused: body of %s bytes is too large", len(raw))
            return 413, "payload too large"

        env = request.env(user=SUPERUSER_ID)
        try:
            verifier = env["biller_genie_qbo.token"]._qbo_get_secret(const.PARAM_VERIFIER_TOKEN)
        except QboKeyError as error:  # the page says it too; Intuit delivers again later
            _logger.warning("QuickBooks webhook: the verifier token cannot be read: %s", error)
            return 503, "retry later"
        if not verifier:
            _logger.warning(
                "QuickBooks webhook refused: no webhook verifier token is configured in Settings"
            )
            return 403, "forbidden"
        signature = httprequest.headers.get(qbo_webhook.SIGNATURE_HEADER)
        if not signature:
            _logger.warning("QuickBooks webhook refused: no intuit-signature header")
            return 403, "forbidden"
        if not qbo_webhook.verify_signature(raw, verifier, signature):
            _logger.warning(
                "QuickBooks webhook refused: wrong intuit-signature (from %s)",
                httprequest.remote_addr,
            )
            return 403, "forbidden"

        try:
            events = qbo_webhook.parse_delivery(raw, httprequest.headers.get("Content-Type"))
        except QboPayloadError as error:
            # Well signed but it will never parse: acknowledge, or Intuit retries forever.
            _logger.warning("QuickBooks webhook: unparseable body acknowledged (%s)", error)
            return 200, "ignored"

        if events and all(event.problem for event in events):
            _logger.warning(
                "QuickBooks webhook: no readable event in the delivery (%s): acknowledged",
                events[0].problem,
            )
        stored = env["biller_genie_qbo.connection"]._qbo_store_webhook_events(
            events, lock_timeout=LOCK_TIMEOUT
        )
        return 200, "ok" if stored is not None else "ignored"
