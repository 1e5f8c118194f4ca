"""Personal fields encrypted at rest, with a keyed blind index for lookups.

- ``FIELD_ENCRYPTION_KEY`` holds one secret, or several as ``kid:secret,kid:secret``;
  the first encrypts, all decrypt, so a key is rotated by putting a new one first and
  re-encrypting (``flask hq rotate-field-key``).
- Values are sealed with AES-256-GCM (authenticated: a tampered value fails to open);
  the stored form is ``v1.<kid>.<base64(nonce + ciphertext)>``.
- ``FIELD_INDEX_KEY`` keys an HMAC-SHA256 of the normalised value, so equal values can
  be found and kept unique without decrypting anything. It does not rotate with the
  encryption key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

VERSION = "v1"


class DecryptionFailed(ValueError):
    """The value was tampered with, or its key is not configured."""


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]  # kid -> 32-byte key
    active: str
    index_key: bytes

    @classmethod
    def from_config(cls, encryption: str, index: str) -> Keyring:
        entries = [e.strip() for e in (encryption or "").split(",") if e.strip()]
        if not entries:
            raise RuntimeError("FIELD_ENCRYPTION_KEY is not configured")
        keys: dict[str, bytes] = {}
        order = []
        for entry in entries:
            kid, sep, secret = entry.partition(":")
            if not sep:
                kid, secret = "k1", entry
            keys[kid] = _derive(secret, b"field-encryption")
            order.append(kid)
        return cls(keys=keys, active=order[0], index_key=_derive(index or encryption, b"blind-index"))


def _derive(secret: str, purpose: bytes) -> bytes:
    # the configured secret may be any string: stretch it to a 256-bit key per purpose
    return hashlib.sha256(purpose + b"\x00" + secret.encode()).digest()


def keyring() -> Keyring:
    cfg = current_app.config
    cache = current_app.extensions.setdefault("clubplatform_keyring", {})
    ident = (cfg["FIELD_ENCRYPTION_KEY"], cfg.get("FIELD_INDEX_KEY"))
    if ident not in cache:
        cache.clear()
        cache[ident] = Keyring.from_config(*ident)
    return cache[ident]


def encrypt(value: str | None, ring: Keyring | None = None) -> str | None:
    """Seal a value with the active key (None stays None)."""
    if value is None:
        return None
    ring = ring or keyring()
    nonce = os.urandom(12)
    ct = AESGCM(ring.keys[ring.active]).encrypt(nonce, value.encode(), ring.active.encode())
    return f"{VERSION}.{ring.active}.{base64.urlsafe_b64encode(nonce + ct).decode()}"


def decrypt(token: str | None, ring: Keyring | None = None) -> str | None:
    """Open a sealed value; raises :class:`DecryptionFailed` if it cannot be trusted."""
    if token is None:
        return None
    ring = ring or keyring()
    try:
        version, kid, body = token.split(".", 2)
        raw = base64.urlsafe_b64decode(body.encode())
        key = ring.keys[kid]
    except (ValueError, KeyError) as exc:
        raise DecryptionFailed("unknown format or key") from exc
    if version != VERSION:
        raise DecryptionFailed(f"unknown version {version}")
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], kid.encode()).decode()
    except InvalidTag as exc:
        raise DecryptionFailed("the value was tampered with") from exc


def key_id(token: str | None) -> str | None:
    """The id of the key that sealed a value."""
    return token.split(".", 2)[1] if token else None


def blind_index(value: str | None, ring: Keyring | None = None) -> str | None:
    """A keyed digest of the normalised value, for equality lookups and uniqueness."""
    if value is None or value == "":
        return None
    ring = ring or keyring()
    return hmac.new(ring.index_key, value.strip().upper().encode(), hashlib.sha256).hexdigest()


def encrypted_columns(metadata) -> list:
    """Every column declared with ``info={"encrypted": True}``."""
    return [c for t in metadata.sorted_tables for c in t.columns if c.info.get("encrypted")]


def rotate_all(db, *, batch: int = 1000) -> dict[str, int]:
    """Re-seal every encrypted value not sealed with the active key, in committed batches.

    A platform maintenance operation over all chapters, in Core SQL on the tables
    themselves (the tenant scope does not apply to it); it can be stopped and run
    again, as it only touches values still sealed with an older key.
    """
    import sqlalchemy as sa

    ring = keyring()
    prefix = f"{VERSION}.{ring.active}."
    counts: dict[str, int] = {}
    for column in encrypted_columns(db.metadata):
        table = column.table
        pk = list(table.primary_key.columns)[0]
        done = 0
        last = None
        while True:
            stmt = (sa.select(pk, column).where(column.is_not(None), ~column.startswith(prefix))
                    .order_by(pk).limit(batch))
            if last is not None:
                stmt = stmt.where(pk > last)
            with db.engine.begin() as conn:
                rows = conn.execute(stmt).all()
                if not rows:
                    break
                conn.execute(
                    sa.update(table).where(pk == sa.bindparam("_pk"))
                    .values({column.name: sa.bindparam("_value")}),
                    [{"_pk": r[0], "_value": encrypt(decrypt(r[1], ring), ring)} for r in rows],
                )
            done += len(rows)
            last = rows[-1][0]
        counts[f"{table.name}.{column.name}"] = done
    return counts
