"""The OAuth tokens of a connection, in a table of their own, encrypted at rest.

Rotated tokens are committed by a short transaction of their own while a sync may be running
in another one. Keeping them off the connection row means that transaction never updates a
row the sync also writes (last sync result, progress): under PostgreSQL's repeatable read
that would make one of them fail with a serialization error. System administrators only.

Encryption (Intuit's security requirements: refresh token and realm id encrypted with AES, the
key in a separate configuration file): the access and refresh tokens are stored AES-256-GCM
encrypted (``tools/qbo_crypto.py``); the connection's realm id likewise. The key is never in
the database. It is read, in this order, from the Odoo configuration file option
``biller_genie_qbo_key``, the environment variable ``BILLER_GENIE_QBO_KEY``, or the key file
``<data_dir>/biller_genie_qbo.key``, which is created (mode 0600) on first use when none of
these exists and no data was ever encrypted. The database keeps a fingerprint of the key only,
to tell a wrong key from a missing one. A database dump alone reveals no usable token.
"""

import logging
import os
import threading

from odoo import api, fields, models, tools

from .. import const
from ..tools import qbo_crypto
from ..tools.qbo_crypto import QboKeyError
from ..tools.qbo_errors import QboReconnectRequired
from ..tools.qbo_oauth import TokenSet

_logger = logging.getLogger(__name__)

CONFIG_OPTION = "biller_genie_qbo_key"
ENV_VAR = "BILLER_GENIE_QBO_KEY"
KEY_FILE_NAME = "biller_genie_qbo.key"
PARAM_FINGERPRINT = "biller_genie_qbo.key_fingerprint"
# Associated data of each kind of value: a ciphertext only opens where it was written.
PURPOSE_ACCESS = "access_token"
PURPOSE_REFRESH = "refresh_token"
PURPOSE_REALM = "realm_id"
# The Intuit app's secrets, system parameters stored encrypted too: {parameter: purpose}.
SECRET_PARAMS = {
    const.PARAM_CLIENT_SECRET: "client_secret",
    const.PARAM_VERIFIER_TOKEN: "webhook_verifier_token",
}

_boxes = {}  # (key source text or file path) -> SecretBox, per process
_boxes_lock = threading.Lock()


def key_file_path():
    return os.path.join(tools.config["data_dir"], KEY_FILE_NAME)


class QboToken(models.Model):
    _name = "biller_genie_qbo.token"
    _description = "QuickBooks Online OAuth Tokens"

    connection_id = fields.Many2one(
        "biller_genie_qbo.connection", required=True, ondelete="cascade", index=True
    )
    access_token_encrypted = fields.Char(copy=False)
    refresh_token_encrypted = fields.Char(copy=False)
    access_expires_at = fields.Datetime()
    refresh_expires_at = fields.Datetime()
    refresh_hard_expires_at = fields.Datetime()
    refreshed_at = fields.Datetime()

    _sql_constraints = [
        ("connection_uniq", "unique(connection_id)", "A connection has one set of tokens."),
    ]

    # ------------------------------------------------------------------
    # The key
    # ------------------------------------------------------------------
    @api.model
    def _qbo_box(self):
        """The SecretBox of this database's key; QboKeyError (with what to do) when the key is
        missing or is not the one the data was encrypted with."""
        configured = tools.config.get(CONFIG_OPTION)
        environment = os.environ.get(ENV_VAR)
        path = key_file_path()
        cache_key = (configured, environment, path)
        box = _boxes.get(cache_key)
        if box is None:
            with _boxes_lock:
                box = _boxes.get(cache_key) or self._qbo_load_box(configured, environment, path)
                _boxes[cache_key] = box
        self._qbo_check_fingerprint(box)
        return box

    @api.model
    def _qbo_load_box(self, configured, environment, path):
        key, source = qbo_crypto.load_key(configured, environment, path)
        if key is None:
            if self._qbo_stored_fingerprint():
                raise QboKeyError(
                    self.env._(
                        "The encryption key of the QuickBooks Online tokens is missing (option "
                        "%(option)s of the Odoo configuration file, variable %(env)s, or the "
                        "file %(file)s): restore it, or reconnect to QuickBooks after resetting "
                        "the encryption.",
                        option=CONFIG_OPTION,
                        env=ENV_VAR,
                        file=path,
                    ),
                    code="key_missing",
                )
            try:
                key = qbo_crypto.create_key_file(path)
                source = "new key file"
                _logger.warning(
                    "QuickBooks Online: created the encryption key file %s; back it up (or "
                    "move the key into the %s option of the configuration file)",
                    path,
                    CONFIG_OPTION,
                )
            except FileExistsError:  # another worker created it meanwhile
                key, source = qbo_crypto.load_key(None, None, path)
        _logger.debug("QuickBooks Online: encryption key read from the %s", source)
        return qbo_crypto.SecretBox(key)

    @api.model
    def _qbo_stored_fingerprint(self):
        return self.env["ir.config_parameter"].sudo().get_param(PARAM_FINGERPRINT)

    @api.model
    def _qbo_check_fingerprint(self, box):
        stored = self._qbo_stored_fingerprint()
        if not stored:
            self.env["ir.config_parameter"].sudo().set_param(PARAM_FINGERPRINT, box.fingerprint())
        elif stored != box.fingerprint():
            raise QboKeyError(
                self.env._(
                    "The encryption key configured for QuickBooks Online is not the one the "
                    "tokens were encrypted with: restore the right key, or reconnect to "
                    "QuickBooks after resetting the encryption."
                ),
                code="key_mismatch",
            )

    @api.model
    def _qbo_encrypt(self, value, purpose):
        return self._qbo_box().encrypt(value, purpose)

    @api.model
    def _qbo_decrypt(self, value, purpose):
        return self._qbo_box().decrypt(value, purpose)

    @api.model
    def _qbo_lookup_key(self, value):
        return self._qbo_box().lookup_key(value)

    @api.model
    def _qbo_get_secret(self, key):
        """The clear value of an app secret (system parameter ``key``); a value set in clear
        (by hand, or by a version before 18.0.1.1.0) is returned as it is."""
        value = self.env["ir.config_parameter"].sudo().get_param(key) or ""
        if not qbo_crypto.is_encrypted(value):
            return value
        return self._qbo_decrypt(value, SECRET_PARAMS[key])

    @api.model
    def _qbo_set_secret(self, key, value):
        """Store an app secret encrypted (an empty value forgets it)."""
        stored = self._qbo_encrypt(value, SECRET_PARAMS[key]) if value else False
        self.env["ir.config_parameter"].sudo().set_param(key, stored)

    # ------------------------------------------------------------------
    # Tokens
    # ------------------------------------------------------------------
    def _qbo_token_set(self, realm_id=None):
        """The decrypted TokenSet of this row (empty TokenSet for no row)."""
        if not self:
            return TokenSet(access_token=None, refresh_token=None, realm_id=realm_id)
        self.ensure_one()
        return TokenSet(
            access_token=self._qbo_decrypt(self.access_token_encrypted, PURPOSE_ACCESS),
            refresh_token=self._qbo_decrypt(self.refresh_token_encrypted, PURPOSE_REFRESH),
            access_expires_at=self.access_expires_at,
            refresh_expires_at=self.refresh_expires_at,
            refresh_hard_expires_at=self.refresh_hard_expires_at,
            realm_id=realm_id,
        )

    @api.model
    def _qbo_token_vals(self, tokens):
        """Column values of a TokenSet (None: forget them), encrypted."""
        return {
            "access_token_encrypted": tokens
            and self._qbo_encrypt(tokens.access_token, PURPOSE_ACCESS),
            "refresh_token_encrypted": tokens
            and self._qbo_encrypt(tokens.refresh_token, PURPOSE_REFRESH),
            "access_expires_at": tokens and tokens.access_expires_at,
            "refresh_expires_at": tokens and tokens.refresh_expires_at,
            "refresh_hard_expires_at": tokens and tokens.refresh_hard_expires_at,
            "refreshed_at": tokens and fields.Datetime.now(),
        }

    # ------------------------------------------------------------------
    # Maintenance: legacy plaintext, key rotation, reset
    # ------------------------------------------------------------------
    @api.model
    def _qbo_encrypt_legacy_columns(self):
        """Encrypt what versions before 18.0.1.1.0 stored in clear (token columns
        access_token / refresh_token, connection column realm_id, the app secrets), then drop
        those columns.
        Called by the migration script; returns the number of values encrypted."""
        cr = self.env.cr
        done = 0
        if tools.sql.column_exists(cr, "biller_genie_qbo_token", "refresh_token"):
            cr.execute("SELECT id, access_token, refresh_token FROM biller_genie_qbo_token")
            for row_id, access, refresh in cr.fetchall():
                cr.execute(
                    """UPDATE biller_genie_qbo_token
                          SET access_token_encrypted = %s, refresh_token_encrypted = %s
                        WHERE id = %s""",
                    [
                        self._qbo_encrypt(access, PURPOSE_ACCESS),
                        self._qbo_encrypt(refresh, PURPOSE_REFRESH),
                        row_id,
                    ],
                )
                done += bool(access) + bool(refresh)
            cr.execute("ALTER TABLE biller_genie_qbo_token DROP COLUMN access_token")
            cr.execute("ALTER TABLE biller_genie_qbo_token DROP COLUMN refresh_token")
        if tools.sql.column_exists(cr, "biller_genie_qbo_connection", "realm_id"):
            cr.execute(
                "SELECT id, realm_id FROM biller_genie_qbo_connection WHERE realm_id IS NOT NULL"
            )
            for row_id, realm in cr.fetchall():
                cr.execute(
                    """UPDATE biller_genie_qbo_connection
                          SET realm_id_encrypted = %s, realm_key = %s WHERE id = %s""",
                    [self._qbo_encrypt(realm, PURPOSE_REALM), self._qbo_lookup_key(realm), row_id],
                )
                done += 1
            cr.execute("ALTER TABLE biller_genie_qbo_connection DROP COLUMN realm_id")
        params = self.env["ir.config_parameter"].sudo()
        for key in SECRET_PARAMS:
            value = params.get_param(key)
            if value and not qbo_crypto.is_encrypted(value):
                self._qbo_set_secret(key, value)
                done += 1
        self.env.invalidate_all()
        return done

    @api.model
    def _qbo_rotate_key(self, new_key):
        """Re-encrypt every token and realm with ``new_key`` (base64url text) and store its
        fingerprint. Run from ``odoo shell`` with all servers stopped, then put the new key in
        the configuration file (README, "Security"). Returns the number of values re-encrypted."""
        old = self._qbo_box()
        new = qbo_crypto.SecretBox(qbo_crypto.parse_key(new_key))
        done = 0
        # Every row, on purpose: a maintenance command run by hand.
        for token in self.sudo().search([]):  # pylint: disable=no-search-all
            vals = {}
            for fname, purpose in (
                ("access_token_encrypted", PURPOSE_ACCESS),
                ("refresh_token_encrypted", PURPOSE_REFRESH),
            ):
                if token[fname]:
                    vals[fname] = new.encrypt(old.decrypt(token[fname], purpose), purpose)
                    done += 1
            token.write(vals)
        Connection = self.env["biller_genie_qbo.connection"].sudo().with_context(active_test=False)
        for conn in Connection.search([("realm_id_encrypted", "!=", False)]):
            realm = old.decrypt(conn.realm_id_encrypted, PURPOSE_REALM)
            conn.write(
                {
                    "realm_id_encrypted": new.encrypt(realm, PURPOSE_REALM),
                    "realm_key": new.lookup_key(realm),
                }
            )
            done += 1
        params = self.env["ir.config_parameter"].sudo()
        for key, purpose in SECRET_PARAMS.items():
            value = params.get_param(key)
            if qbo_crypto.is_encrypted(value):
                params.set_param(key, new.encrypt(old.decrypt(value, purpose), purpose))
                done += 1
        params.set_param(PARAM_FINGERPRINT, new.fingerprint())
        _boxes.clear()
        return done

    @api.model
    def _qbo_reset_encryption(self):
        """The key is lost: forget every encrypted value (tokens, realms, app secrets that
        were encrypted), accept the key available now (or create a new key file) and let the
        administrators enter the app secrets again and the managers reconnect."""
        Connection = self.env["biller_genie_qbo.connection"].sudo().with_context(active_test=False)
        # Every row, on purpose: the key of all of them is lost.
        connections = Connection.search([])  # pylint: disable=no-search-all
        self.sudo().search([]).unlink()  # pylint: disable=no-search-all
        params = self.env["ir.config_parameter"].sudo()
        for key in SECRET_PARAMS:
            if qbo_crypto.is_encrypted(params.get_param(key)):
                params.set_param(key, False)
        params.set_param(PARAM_FINGERPRINT, False)
        _boxes.clear()
        for conn in connections.filtered(lambda c: c.realm_key or c.state != "disconnected"):
            conn.write({"realm_id_encrypted": False, "realm_key": False})
            if conn.state == "connected":
                conn._qbo_mark_disconnected(
                    self.env._(
                        "The encryption of the QuickBooks Online tokens was reset: connect to "
                        "QuickBooks again."
                    ),
                    state="needs_reconnect",
                )
        self._qbo_box()  # a key now exists and its fingerprint is stored
        return connections

    @api.model
    def _qbo_refresh(self, connection, *, stale_refresh_token=None, force=False):
        """Refresh the tokens of ``connection`` in a transaction of its own, under a row lock.

        Two workers never refresh at once: the second one waits for the lock, then finds the
        refresh token already rotated and uses the stored tokens. A rotated refresh token is
        committed the moment Intuit returns it, whatever happens to the caller's transaction.
        """
        connection.ensure_one()
        oauth = connection._qbo_oauth()
        with self.env.registry.cursor() as cr:
            # Read committed: after waiting for the lock we must see the other worker's tokens
            # (Odoo's default repeatable read would fail with a serialization error instead).
            if not self.env.registry.in_test_mode():
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            # Never wait forever for a worker that holds the row.
            cr.execute("SET LOCAL lock_timeout = '15s'")
            cr.execute(
                "SELECT refresh_token_encrypted FROM biller_genie_qbo_token"
                " WHERE connection_id = %s FOR UPDATE",
                [connection.id],
            )
            row = cr.fetchone()
            env = self.env(cr=cr, su=True)
            conn = env[connection._name].browse(connection.id)
            current = row and env["biller_genie_qbo.token"]._qbo_decrypt(row[0], PURPOSE_REFRESH)
            if not current:
                raise QboReconnectRequired("No refresh token is stored.", code="no_refresh_token")
            if not force and stale_refresh_token and current != stale_refresh_token:
                return conn._qbo_tokens()  # another worker refreshed meanwhile
            try:
                tokens = oauth.refresh(current)
            except QboReconnectRequired:
                cr.rollback()
                conn._qbo_mark_disconnected(
                    env._(
                        "QuickBooks Online refused our authorization (revoked or expired): "
                        "reconnect to resume syncing."
                    ),
                    state="needs_reconnect",
                )
                # Our own short transaction, not the caller's: the flip must survive it.
                cr.commit()  # pylint: disable=invalid-commit
                raise
            conn._qbo_store_tokens(tokens)
            # Our own short transaction: Intuit has rotated the refresh token, persist it now.
            cr.commit()  # pylint: disable=invalid-commit
        connection.invalidate_recordset()
        connection.sudo().token_ids.invalidate_recordset()
        return tokens
