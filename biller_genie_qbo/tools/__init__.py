"""Pure-Python QuickBooks Online client layer (no Odoo import).

- ``qbo_errors``: the typed exceptions raised by every function of this package;
- ``qbo_oauth``: OAuth 2.0 on intuit-oauth (authorization URL, code exchange, refresh, revoke);
- ``qbo_client``: the Accounting API client on python-quickbooks (retries, throttle, paging,
  CRUD, batch, CDC);
- ``qbo_webhook``: webhook signature verification and event parsing (legacy and CloudEvents);
- ``qbo_time``: the one parser of Intuit's timestamps;
- ``qbo_crypto``: AES-GCM encryption of the tokens and realm ids at rest.
"""

from . import qbo_client, qbo_errors, qbo_oauth, qbo_time, qbo_webhook
