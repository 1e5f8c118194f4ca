"""Voucher codes: 16 characters of an unambiguous alphabet (80 bits), shown 4-4-4-4."""

from __future__ import annotations

import hashlib
import hmac
import secrets

#: 32 symbols without 0/O and 1/I, so a code read aloud or typed from a screen is unambiguous
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#: 16 symbols × 5 bits = 80 bits
LENGTH = 16


def new_code() -> str:
    """A fresh random code (``secrets``)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def code_for_request(secret: str, *parts: object) -> str:
    """The code for a client's request token: the same request always gets the same code.

    An HMAC under the application's secret, so it is as unguessable as a random one to
    anyone who does not hold the secret.
    """
    message = "\x1f".join(str(p) for p in parts).encode()
    number = int.from_bytes(hmac.new(secret.encode(), message, hashlib.sha256).digest()[:10])
    chars = []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def normalise(text: str | None) -> str:
    """What a person typed or scanned, as stored: upper case, no spaces or dashes."""
    return "".join(c for c in (text or "").upper() if c not in " -\t\r\n")


def display(code: str) -> str:
    """``ABCD-EFGH-JKLM-NPQR``."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def looks_valid(code: str) -> bool:
    return len(code) == LENGTH and all(c in ALPHABET for c in code)
