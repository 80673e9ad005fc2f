"""Time zones by their IANA names ("Europe/Paris"), checked without trusting the name."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import get_timezone


def known_zone(name: str) -> bool:
    """Whether the name is a time zone this machine knows and whose city Babel can name (every
    clock the console shows is labelled with it): not a folder of the zone database ("Europe")
    nor one of its other files ("posixrules", "Factory", "right/Europe/Paris")."""
    try:
        ZoneInfo(name)
        get_timezone(name)
    except (ZoneInfoNotFoundError, LookupError, ValueError, OSError):
        return False
    return True


def zone_or(name: str | None, fallback: str) -> ZoneInfo:
    """The zone of that name when it is known, else the fallback's."""
    return ZoneInfo(name if name and known_zone(name) else fallback)
