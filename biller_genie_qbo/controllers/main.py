"""HTTP entry points: Intuit's OAuth callback, Disconnect URL and Reconnect URL (the webhook
lives in webhook.py). Thin: they check the caller, hand over to the connection model, redirect.

Whoever opens them, the answer never depends on which QuickBooks company (realm) or Odoo
company exists unless the caller manages it: a visitor who is not a QuickBooks manager gets the
same plain page for any ``realmId``, and no call to Intuit is made for him."""

from markupsafe import Markup
from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from .. import const

NO_STORE = {"Cache-Control": "no-cache, no-store", "Pragma": "no-cache"}


def _is_manager():
    user = request.env.user
    return not user._is_public() and user.has_group("biller_genie_qbo.group_qbo_manager")


def _plain_page(title, paragraphs, status=200):
    """A page without Odoo's assets: Intuit's Disconnect URL must explain itself to anybody."""
    body = Markup("").join(Markup("<p>%s</p>") % p for p in paragraphs)
    html = Markup(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="robots" '
        'content="noindex"><title>%s</title></head><body style="font-family: sans-serif; '
        'max-width: 40em; margin: 3em auto;"><h1>%s</h1>%s</body></html>'
    ) % (title, title, body)
    return request.make_response(
        str(html),
        headers=[("Content-Type", "text/html; charset=utf-8"), *NO_STORE.items()],
        status=status,
    )


def _reconnect_help():
    env = request.env
    url = (env["ir.config_parameter"].sudo().get_param("web.base.url") or "") + const.RECONNECT_PATH
    return [
        env._(
            "To connect again, sign in to Odoo as a QuickBooks Online manager of the company, "
            "open Settings > QuickBooks Online and click Connect to QuickBooks, or open the "
            "reconnect link:"
        ),
        Markup('<a href="%s">%s</a>') % (url, url),
        env._("Your data in Odoo is kept: the sync goes on from where it stopped."),
    ]


def _reconnect_target(realm_id):
    """The connection to reconnect: the realm's when the user works in its company, else his
    current company's."""
    env = request.env
    Connection = env["biller_genie_qbo.connection"]
    company = env.company
    if realm_id and str(realm_id).isdigit():
        # The realm's lookup key is a system field: found with sudo, then the user's scope.
        found = Connection.sudo().search([("realm_id", "=", str(realm_id))], limit=1)
        if found and found.company_id in env.user.company_ids:
            company = found.company_id
    return Connection.with_company(company)._qbo_get_or_create(company)


def _page_url(conn):
    """The connection's page (a form-only action: its breadcrumb is the page alone)."""
    return f"/odoo/{const.PAGE_PATH}/{conn.id}"


class QboOAuthController(http.Controller):
    @http.route(const.OAUTH_CALLBACK_PATH, type="http", auth="user", methods=["GET"])
    def qbo_oauth_callback(self, state=None, code=None, realmId=None, error=None, **kwargs):
        if not request.env.user.has_group("biller_genie_qbo.group_qbo_manager"):
            raise Forbidden()
        conn = request.env["biller_genie_qbo.connection"]._qbo_oauth_callback(
            state, code=code, realm_id=realmId, error=error
        )
        return request.redirect(_page_url(conn))

    @http.route(const.DISCONNECT_PATH, type="http", auth="public", methods=["GET"])
    def qbo_disconnect(self, realmId=None, **kwargs):
        """Intuit's Disconnect URL: a manager lands on his company's page (the grant checked);
        anybody else (not signed in, no QuickBooks rights) reads how to reconnect."""
        if not _is_manager():
            env = request.env
            return _plain_page(
                env._("QuickBooks Online is disconnected"),
                [
                    env._(
                        "If you disconnected the app in QuickBooks Online, Odoo no longer "
                        "exchanges data with your QuickBooks company."
                    ),
                    *_reconnect_help(),
                ],
            )
        conn = request.env["biller_genie_qbo.connection"]._qbo_handle_intuit_disconnect(realmId)
        if not conn:
            conn = request.env["biller_genie_qbo.connection"]._qbo_get_or_create()
        return request.redirect(_page_url(conn))

    @http.route(const.RECONNECT_PATH, type="http", auth="user", methods=["GET"])
    def qbo_reconnect(self, realmId=None, **kwargs):
        """Intuit's Reconnect URL: Intuit's consent flow for the company of ``realmId`` when
        the manager works in it, else for his current company (the answer is the same for a
        realm he does not manage and for one that does not exist)."""
        if not _is_manager():
            env = request.env
            return _plain_page(
                env._("Reconnect QuickBooks Online"),
                [
                    env._(
                        "Reconnecting QuickBooks Online needs the QuickBooks Online manager "
                        "rights in Odoo: ask a manager of your company."
                    )
                ],
                status=403,
            )
        conn = _reconnect_target(realmId)
        try:
            action = conn.action_qbo_connect()
        except UserError:  # no Intuit app configured: the page says what to do
            return request.redirect(_page_url(conn))
        return request.redirect(action["url"], local=False)
