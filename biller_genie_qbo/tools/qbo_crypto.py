"""Encryption at rest of what Intuit asks to protect (refresh token, access token, realm id).

Intuit's security requirements: "refresh token and realmId encrypted with AES, the key kept in a
separate configuration file", never in the database. This module is the pure part:

- :class:`SecretBox`: AES-256-GCM (``cryptography``, an Odoo dependency) with a random 96-bit
  nonce per value and the value's purpose as associated data (a ciphertext copied from the
  refresh-token column into the realm column does not decrypt). Values are text
  ``v1:<base64url(nonce || ciphertext || tag)>``;
- :meth:`SecretBox.lookup_key`: a keyed hash (HMAC-SHA256 with a key derived for that use)
  to find a row by a protected value (the realm of a webhook) without decrypting every row;
- :meth:`SecretBox.fingerprint`: a check value of the key, stored in the database to tell a
  wrong key from a missing one (it reveals nothing of the key);
- :func:`load_key`: where the key comes from (configuration option, environment, key file).

The key is 32 random bytes written as base64url (:func:`new_key`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .qbo_errors import QboError

PREFIX = "v1:"
NONCE_SIZE = 12
KEY_SIZE = 32


class QboKeyError(QboError):
    """The encryption key is missing, malformed, or not the one the data was encrypted with."""

    default_code = "encryption_key"


def new_key() -> str:
    """A new random key, as the text to put in the configuration file."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_SIZE)).decode()


def parse_key(text: str) -> bytes:
    """The 32 bytes of a key written as base64url (or hex)."""
    value = (text or "").strip()
    raw = None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raw = None
    if raw is None or len(raw) != KEY_SIZE:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = None
    if raw is None or len(raw) != KEY_SIZE:
        raise QboKeyError(
            "The encryption key is malformed: it must be 32 bytes written as base64url "
            "(python3 -c 'import secrets,base64; "
            "print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())').",
            code="key_malformed",
        )
    return raw


class SecretBox:
    """AES-256-GCM encryption of short texts with one key."""

    def __init__(self, key: bytes):
        if not isinstance(key, bytes) or len(key) != KEY_SIZE:
            raise QboKeyError("An encryption key is 32 bytes", code="key_malformed")
        self._aead = AESGCM(key)
        self._lookup = hmac.new(key, b"biller_genie_qbo lookup", hashlib.sha256).digest()
        self._check = hmac.new(key, b"biller_genie_qbo key check", hashlib.sha256).hexdigest()

    def encrypt(self, plaintext: str | None, purpose: str) -> str | None:
        """``v1:...`` for a text (None for an empty value)."""
        if not plaintext:
            return None
        nonce = secrets.token_bytes(NONCE_SIZE)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), purpose.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, value: str | None, purpose: str) -> str | None:
        """The text of a ``v1:...`` value; :class:`QboKeyError` when this key cannot open it."""
        if not value:
            return None
        if not value.startswith(PREFIX):
            raise QboKeyError("The stored value is not encrypted", code="not_encrypted")
        try:
            raw = base64.urlsafe_b64decode(value[len(PREFIX) :].encode())
            opened = self._aead.decrypt(raw[:NONCE_SIZE], raw[NONCE_SIZE:], purpose.encode())
        except (InvalidTag, binascii.Error, ValueError):
            raise QboKeyError(
                "The stored value cannot be decrypted with this key", code="key_mismatch"
            ) from None
        return opened.decode()

    def lookup_key(self, value: str | None) -> str | None:
        """A keyed hash of a value, to find its row (deterministic, not reversible)."""
        if not value:
            return None
        return hmac.new(self._lookup, str(value).encode(), hashlib.sha256).hexdigest()

    def fingerprint(self) -> str:
        """A check value of the key (safe to store beside the data)."""
        return self._check


def is_encrypted(value: str | None) -> bool:
    return bool(value) and value.startswith(PREFIX)


def load_key(configured: str | None, environment: str | None, key_file: str | None):
    """``(key bytes, source)`` from, in this order: the configuration option, the environment
    variable, the key file; ``(None, None)`` when none holds a key."""
    if configured:
        return parse_key(configured), "configuration"
    if environment:
        return parse_key(environment), "environment"
    if key_file and os.path.isfile(key_file):
        with open(key_file, encoding="ascii") as handle:
            return parse_key(handle.read()), "key file"
    return None, None


def create_key_file(key_file: str) -> bytes:
    """Write a new key into ``key_file`` (mode 0600, never overwritten); returns the key."""
    os.makedirs(os.path.dirname(key_file), mode=0o700, exist_ok=True)
    text = new_key()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
    return parse_key(text)
