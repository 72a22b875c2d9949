"""The addon driven as a user drives it, over JSON-RPC: app credentials in Settings, companies,
Connect to QuickBooks through the real OAuth redirects (to the emulator and back), Sync."""

from __future__ import annotations

import time

import requests

CONNECTION = "biller_genie_qbo.connection"


def wait_for(condition, seconds=90, what="condition", every=0.3):
    """The first truthy value of ``condition()``; AssertionError after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def configure_app(rpc, emulator_url, client_id, client_secret, verifier=None):
    """Settings > Invoicing > QuickBooks Online, as an administrator saves it."""
    values = {
        "qbo_client_id": client_id,
        "qbo_client_secret": client_secret,
        "qbo_environment": "custom",
        "qbo_custom_url": emulator_url,
    }
    if verifier:
        values["qbo_webhook_verifier_token"] = verifier
    settings = rpc.call_kw("res.config.settings", "web_save", [], values, specification={})
    rpc.call_button("res.config.settings", "execute", [settings[0]["id"]])


def create_company(rpc, name, tax_percent=8.25):
    """A company with the generic chart of accounts and a sale tax of ``tax_percent``, added to
    the administrator's companies. Returns its id."""
    company = rpc.call_kw("res.company", "create", {"name": name})
    rpc.call_kw("res.users", "write", [rpc.uid], {"company_ids": [(4, company)]})
    context = {**rpc.context, "allowed_company_ids": [company]}
    rpc.call_kw(
        "account.chart.template", "try_loading", [], "generic_coa", company, context=context
    )
    if tax_percent:
        rpc.call_kw(
            "account.tax",
            "create",
            {
                "name": f"Sales tax {tax_percent}%",
                "amount": tax_percent,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": company,
            },
            context=context,
        )
    return company


def connect(rpc, control, realm, company=None):
    """Open the company's QuickBooks Online page and click Connect to QuickBooks: the browser
    goes to the emulator's authorize URL, which consents and redirects to Odoo's callback.
    Returns the connection id."""
    context = {**rpc.context, "allowed_company_ids": [company]} if company else rpc.context
    page = rpc.call_kw(CONNECTION, "action_open_page", context=context)
    conn_id = page["res_id"]
    action = rpc.call_button(CONNECTION, "action_qbo_connect", [conn_id], context=context)
    control.consent(realm_id=realm)
    consent = requests.get(action["url"], allow_redirects=False, timeout=10)
    callback = rpc.http.get(consent.headers["Location"], allow_redirects=False, timeout=60)
    if callback.status_code not in (302, 303):
        raise AssertionError(f"OAuth callback answered {callback.status_code}")
    state = rpc.call_kw(CONNECTION, "read", [conn_id], ["state"], context=context)[0]["state"]
    if state != "connected":
        raise AssertionError(f"connection {conn_id} is {state} after the OAuth flow")
    return conn_id


def confirm_first_push(rpc, conn_id, company=None):
    """The manager read the first push's preview on the page and clicked Confirm and send
    (issue 17: nothing is written to QuickBooks before that)."""
    context = {**rpc.context, "allowed_company_ids": [company]} if company else rpc.context
    return rpc.call_button(CONNECTION, "action_qbo_confirm_push", [conn_id], context=context)


def sync_now(rpc, conn_id, company=None):
    """The Sync button."""
    context = {**rpc.context, "allowed_company_ids": [company]} if company else rpc.context
    return rpc.call_button(CONNECTION, "action_qbo_sync_now", [conn_id], context=context)


def connections(rpc, conn_ids, fields=("state", "last_sync_result", "sync_running")):
    """Connection rows read by the administrator across all his companies."""
    companies = rpc.call_kw("res.users", "read", [rpc.uid], ["company_ids"])[0]["company_ids"]
    context = {**rpc.context, "allowed_company_ids": companies}
    return rpc.call_kw(
        CONNECTION, "read", list(conn_ids), [*fields, "sync_requested"], context=context
    )


def synced(rpc, conn_ids):
    """True once every connection has a result and nothing queued or running."""
    rows = connections(rpc, conn_ids)
    return all(
        row["last_sync_result"] and not row["sync_running"] and not row["sync_requested"]
        for row in rows
    )
