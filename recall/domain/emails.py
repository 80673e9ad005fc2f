"""E-mail addresses: their syntax, read with email-validator (no DNS look-up)."""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email


@lru_cache(maxsize=4096)
def email_problem(address: str) -> str | None:
    """Why `address` can't receive a notice, or None when its syntax is right."""
    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def email_valid(address: str | None) -> bool | None:
    """True or False for an address, None for no address at all."""
    if address is None or not address.strip():
        return None
    return email_problem(address.strip()) is None


def mask_email(address: str) -> str:
    """An address as logs and lists may show it: j***@example.fr."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


_ADDRESS = re.compile(r"[^\s<>@\"']+@[^\s<>@\"']+")


def hide_emails(text: str) -> str:
    """Servers quote the address in their replies; ours never shows it in clear."""
    return _ADDRESS.sub(lambda found: mask_email(found.group()), text)
