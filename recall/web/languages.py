"""The console in each user's language and on their clock: one template environment per
language (Jinja's i18n extension over the gettext catalogues), and the clocks a page shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from babel.dates import get_timezone, get_timezone_location
from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from recall import i18n
from recall.domain.zones import known_zone

LANGUAGE_KEY = "lang"  # the session's language before login (the login page's own choice)


def page_templates(directory: Path) -> dict[str, Jinja2Templates]:
    """The console's templates, once per language."""
    return {lang: Jinja2Templates(env=_environment(directory, lang)) for lang in i18n.LANGUAGES}


def _environment(directory: Path, language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(),
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,  # pages are read once per process: no check of the files per render
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = lambda value: i18n.number(value, language)
    env.filters["day"] = lambda value: i18n.long_date(value, language) if value else ""
    env.globals["lang"] = language
    env.globals["languages"] = i18n.NAMES
    return env


def page_language(request: Request, home_language: str) -> str:
    """The user's choice, else the one picked before login, else the home language."""
    user = getattr(request.state, "user", None)
    chosen = getattr(user, "language", None) or request.session.get(LANGUAGE_KEY)
    return i18n.language_or(chosen, home_language)


@dataclass(frozen=True)
class Clocks:
    """Instants as the user's clock shows them, and as the customer's does, each labelled."""

    zone: str
    language: str

    def mine(self, at: dt.datetime | None, *, day: bool = True) -> str:
        """On the user's own clock: "3 déc. 2026 10:30"."""
        return i18n.moment(at, self.zone, self.language, day=day) if at else ""

    @property
    def mine_label(self) -> str:
        """What the user's times are: "votre heure (Paris)", "your time (Paris)"."""
        _ = i18n.gettext_for(self.language)
        return _("your time (%(city)s)") % {"city": self.city(self.zone)}

    def theirs(self, at: dt.datetime | None, zone: str | None, *, day: bool = True) -> str:
        """On the customer's clock, said so: "3 déc. 2026 10:30, heure du client (Paris)"."""
        if at is None:
            return ""
        zone = zone if zone and known_zone(zone) else self.zone
        _ = i18n.gettext_for(self.language)
        return _("%(time)s, customer's time (%(city)s)") % {
            "time": i18n.moment(at, zone, self.language, day=day),
            "city": self.city(zone),
        }

    def city(self, zone: str) -> str:
        return get_timezone_location(get_timezone(zone), locale=self.language, return_city=True)


def clocks_of(request: Request, language: str, home_zone: str) -> Clocks:
    user = getattr(request.state, "user", None)
    zone = getattr(user, "time_zone", None)
    return Clocks(zone if zone and known_zone(zone) else home_zone, language)
