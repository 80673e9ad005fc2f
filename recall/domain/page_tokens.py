"""The self-service page's links: one unguessable token per case, signed, never stored.

A token is 15 bytes written in base32 (24 characters, upper case, which a QR code holds in its
compact alphanumeric mode): the case's id on 5 bytes, then the first 10 bytes (80 bits) of an
HMAC-SHA256 of that id under the database's key. Nobody without the key can make one; a link
is checked by computing its MAC again, with no look-up and nothing to leak from a table.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

ID_BYTES = 5
MAC_BYTES = 10
TOKEN_LENGTH = 24  # base32 of 15 bytes, no padding


def _mac(case_id: int, key: bytes) -> bytes:
    return hmac.new(key, case_id.to_bytes(ID_BYTES, "big"), hashlib.sha256).digest()[:MAC_BYTES]


def make_token(case_id: int, key: bytes) -> str:
    """The case's token: the same for the letter, the e-mail and the SMS."""
    raw = case_id.to_bytes(ID_BYTES, "big") + _mac(case_id, key)
    return base64.b32encode(raw).decode("ascii")


def read_token(token: str, key: bytes) -> int | None:
    """The case id a token names, or None for anything else (in constant time on the MAC)."""
    text = token.strip().upper()
    if len(text) != TOKEN_LENGTH or not text.isalnum():
        return None
    try:
        raw = base64.b32decode(text)
    except (binascii.Error, ValueError):
        return None
    case_id = int.from_bytes(raw[:ID_BYTES], "big")
    return case_id if hmac.compare_digest(raw[ID_BYTES:], _mac(case_id, key)) else None


def page_link(base_url: str, token: str) -> str:
    """The link printed and sent: short, for an SMS; `/r/` also answers as `/R/` (QR codes)."""
    return f"{base_url.rstrip('/')}/r/{token}"
