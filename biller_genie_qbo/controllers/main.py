"""HTTP entry points: Intuit's OAuth callback and Disconnect URL (the webhook lives in
webhook.py). Thin: they check the caller, hand over to the connection model, redirect."""

from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.http import request

from .. import const


class QboOAuthController(http.Controller):
    @http.route(const.OAUTH_CALLBACK_PATH, type="http", auth="user", methods=["GET"])
    def qbo_oauth_callback(self, state=None, code=None, realmId=None, error=None, **kwargs):
        if not request.env.user.has_group("biller_genie_qbo.group_qbo_manager"):
            raise Forbidden()
        conn = request.env["biller_genie_qbo.connection"]._qbo_oauth_callback(
            state, code=code, realm_id=realmId, error=error
        )
        return request.redirect(f"/odoo/qbo-connections/{conn.id}")

    @http.route(const.DISCONNECT_PATH, type="http", auth="user", methods=["GET"])
    def qbo_disconnect(self, realmId=None, **kwargs):
        if not request.env.user.has_group("biller_genie_qbo.group_qbo_manager"):
            raise Forbidden()
        conn = request.env["biller_genie_qbo.connection"]._qbo_handle_intuit_disconnect(realmId)
        if not conn:
            conn = request.env["biller_genie_qbo.connection"]._qbo_get_or_create()
        return request.redirect(f"/odoo/qbo-connections/{conn.id}")
