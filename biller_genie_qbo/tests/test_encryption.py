"""Tokens and realm ids encrypted at rest (AES-256-GCM), the key outside the database: a dump
alone reveals no usable token; a missing or wrong key is said on the page, never a traceback;
tokens stored in clear by earlier versions are migrated; the key can be rotated."""

import os
import tempfile
from unittest.mock import patch

from odoo import tools
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.biller_genie_qbo.models import qbo_token
from odoo.addons.biller_genie_qbo.tools import qbo_crypto
from odoo.addons.biller_genie_qbo.tools.qbo_crypto import QboKeyError, SecretBox
from odoo.addons.biller_genie_qbo.tools.qbo_oauth import TokenSet

from .common import QboCommon

ACCESS = "access-token-PLAINTEXT-4711"
REFRESH = "refresh-token-PLAINTEXT-4711"
REALM = "9130359876543210"


def box(key_text=None):
    return SecretBox(qbo_crypto.parse_key(key_text or qbo_crypto.new_key()))


class TestSecretBox(TransactionCase):
    def test_round_trip_and_purpose(self):
        secret = box()
        sealed = secret.encrypt(REFRESH, "refresh_token")
        self.assertTrue(sealed.startswith("v1:"))
        self.assertNotIn(REFRESH, sealed)
        self.assertNotEqual(sealed, secret.encrypt(REFRESH, "refresh_token"), "random nonce")
        self.assertEqual(secret.decrypt(sealed, "refresh_token"), REFRESH)
        with self.assertRaises(QboKeyError):  # copied into another column: does not open
            secret.decrypt(sealed, "realm_id")
        with self.assertRaises(QboKeyError):
            box().decrypt(sealed, "refresh_token")
        with self.assertRaises(QboKeyError):
            secret.decrypt(sealed[:-4] + "AAAA", "refresh_token")
        self.assertIsNone(secret.encrypt("", "x"))

    def test_lookup_key_and_fingerprint(self):
        key = qbo_crypto.new_key()
        self.assertEqual(box(key).lookup_key(REALM), box(key).lookup_key(REALM))
        self.assertNotEqual(box(key).lookup_key(REALM), box().lookup_key(REALM))
        self.assertNotIn(REALM, box(key).lookup_key(REALM))
        self.assertEqual(box(key).fingerprint(), box(key).fingerprint())
        for bad in ("", "short", "!" * 44):
            with self.assertRaises(QboKeyError):
                qbo_crypto.parse_key(bad)


@tagged("post_install", "-at_install")
class TestEncryptionAtRest(QboCommon):
    def store(self):
        conn = self.connection.sudo()
        conn._qbo_store_tokens(TokenSet(access_token=ACCESS, refresh_token=REFRESH))
        conn.realm_id = REALM
        self.env.flush_all()
        return conn

    def text_columns(self):
        self.env.cr.execute(
            """SELECT table_name, column_name FROM information_schema.columns
                WHERE table_schema = 'public'
                  AND data_type IN ('character varying', 'text', 'jsonb')"""
        )
        return self.env.cr.fetchall()

    def test_a_database_dump_reveals_no_token(self):
        self.store()
        found = []
        for table, column in self.text_columns():
            self.env.cr.execute(
                tools.SQL(
                    "SELECT count(*) FROM %s WHERE %s::text LIKE %s OR %s::text LIKE %s",
                    tools.SQL.identifier(table),
                    tools.SQL.identifier(column),
                    f"%{ACCESS}%",
                    tools.SQL.identifier(column),
                    f"%{REFRESH}%",
                )
            )
            if self.env.cr.fetchone()[0]:
                found.append(f"{table}.{column}")
        self.assertFalse(found, "tokens in clear in the database")
        for table in ("biller_genie_qbo_connection", "biller_genie_qbo_webhook_event"):
            self.env.cr.execute(
                tools.SQL("SELECT row_to_json(t)::text FROM %s t", tools.SQL.identifier(table))
            )
            rows = " ".join(row[0] for row in self.env.cr.fetchall())
            self.assertNotIn(REALM, rows, f"the realm id in clear in {table}")
        # ...and the addon reads them back.
        conn = self.connection.sudo()
        conn.invalidate_recordset()
        self.assertEqual(conn._qbo_tokens().refresh_token, REFRESH)
        self.assertEqual(conn.realm_id, REALM)
        self.assertEqual(
            self.env["biller_genie_qbo.connection"].search([("realm_id", "=", REALM)]), conn
        )

    @mute_logger("odoo.addons.biller_genie_qbo.sync")
    def test_wrong_key_is_said_on_the_page_and_the_sync_fails_cleanly(self):
        conn = self.connection.sudo()
        with patch.dict(tools.config.options, {qbo_token.CONFIG_OPTION: qbo_crypto.new_key()}):
            conn.invalidate_recordset()
            self.assertIn("not the one the tokens were encrypted with", conn.encryption_problem)
            self.assertFalse(conn.realm_id)
            run = conn._qbo_run_sync("button")
            self.assertEqual(run.state, "failed")
            self.assertIn("restore the right key", run.message)
            self.assertNotIn("Traceback", run.message)
        conn.invalidate_recordset()
        self.assertFalse(conn.encryption_problem, "the right key again: all is well")
        self.assertEqual(conn.realm_id, self.realm_id)

    def test_missing_key_is_said_on_the_page(self):
        conn = self.connection.sudo()
        conn._qbo_tokens()  # a fingerprint is stored
        with (
            tempfile.TemporaryDirectory() as empty,
            patch.dict(tools.config.options, {"data_dir": empty, qbo_token.CONFIG_OPTION: False}),
            patch.dict(os.environ, {qbo_token.ENV_VAR: ""}),
        ):
            conn.invalidate_recordset()
            self.assertIn(
                "encryption key of the QuickBooks Online tokens is missing", conn.encryption_problem
            )
            self.assertFalse(os.listdir(empty), "no new key made while encrypted data exists")

    @mute_logger("odoo.addons.biller_genie_qbo.models.qbo_token")
    def test_reset_after_a_lost_key_lets_the_manager_reconnect(self):
        conn = self.store()
        with patch.dict(tools.config.options, {qbo_token.CONFIG_OPTION: qbo_crypto.new_key()}):
            conn.invalidate_recordset()
            self.assertTrue(conn.encryption_problem)
            conn.action_qbo_reset_encryption()
            conn.invalidate_recordset()
            self.assertEqual(conn.state, "needs_reconnect")
            self.assertFalse(conn.token_ids)
            self.assertFalse(conn.encryption_problem)
            self._qbo_connect(self.env.company, self.realm_id)  # reconnect: works again
            self.assertEqual(conn.realm_id, self.realm_id)

    def test_key_rotation(self):
        conn = self.store()
        new_key = qbo_crypto.new_key()
        count = self.env["biller_genie_qbo.token"]._qbo_rotate_key(new_key)
        self.assertEqual(count, 3)  # access token, refresh token, realm
        with patch.dict(tools.config.options, {qbo_token.CONFIG_OPTION: new_key}):
            conn.invalidate_recordset()
            self.assertEqual(conn._qbo_tokens().refresh_token, REFRESH)
            self.assertEqual(conn.realm_id, REALM)
        conn.invalidate_recordset()
        self.assertTrue(conn.encryption_problem, "the old key no longer opens them")

    def test_tokens_stored_in_clear_by_earlier_versions_are_migrated(self):
        conn = self.store()
        cr = self.env.cr
        cr.execute("ALTER TABLE biller_genie_qbo_token ADD COLUMN access_token varchar")
        cr.execute("ALTER TABLE biller_genie_qbo_token ADD COLUMN refresh_token varchar")
        cr.execute("ALTER TABLE biller_genie_qbo_connection ADD COLUMN realm_id varchar")
        cr.execute(
            """UPDATE biller_genie_qbo_token SET access_token = %s, refresh_token = %s,
                      access_token_encrypted = NULL, refresh_token_encrypted = NULL""",
            [ACCESS, REFRESH],
        )
        cr.execute(
            """UPDATE biller_genie_qbo_connection SET realm_id = %s, realm_id_encrypted = NULL,
                      realm_key = NULL WHERE id = %s""",
            [REALM, conn.id],
        )
        self.env.invalidate_all()
        done = self.env["biller_genie_qbo.token"]._qbo_encrypt_legacy_columns()
        self.assertGreaterEqual(done, 3)
        self.assertFalse(tools.sql.column_exists(cr, "biller_genie_qbo_token", "refresh_token"))
        self.assertFalse(tools.sql.column_exists(cr, "biller_genie_qbo_connection", "realm_id"))
        self.assertEqual(conn._qbo_tokens().refresh_token, REFRESH)
        self.assertEqual(conn.realm_id, REALM)
        self.assertEqual(
            self.env["biller_genie_qbo.connection"].search([("realm_id", "=", REALM)]), conn
        )
