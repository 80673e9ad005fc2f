"""Time zones by their IANA names ("Europe/Paris"), checked without trusting the name."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def known_zone(name: str) -> bool:
    """Whether the name is a time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone_or(name: str | None, fallback: str) -> ZoneInfo:
    """The zone of that name when it is known, else the fallback's."""
    return ZoneInfo(name if name and known_zone(name) else fallback)
