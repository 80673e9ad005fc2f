"""The agent's desk in words, in the user's language: the dispositions, what a case waits for,
a call's line, why nothing can be called now, and times on the user's clock and the
customer's. Statuses, outcomes and channels are said by `report_words`, for every page.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import get_day_names
from fastapi import Request

from recall import i18n
from recall.calling.agent_queue import CALLBACK, HOLIDAY, NOTICE, OUTSIDE_HOURS, RETRY, HistoryLine
from recall.calling.idle import ELSEWHERE, EMPTY, NothingToCall
from recall.domain.definition import DAYS, CallingWindow, hours_text
from recall.domain.zones import known_zone
from recall.web.languages import Clocks, clocks_of, page_language
from recall.web.report_words import N_, Words

DISPOSITIONS = (
    ("reached", N_("Reached")), ("no_answer", N_("No answer")), ("busy", N_("Busy")),
    ("voicemail", N_("Voicemail")), ("wrong_number", N_("Wrong number")),
    ("callback_requested", N_("Callback asked")), ("do_not_call", N_("Do not call")),
)  # fmt: skip
WAITS = {
    CALLBACK: N_("callback asked for"),
    RETRY: N_("a retry after an unanswered call"),
    NOTICE: N_("waiting for an answer to the e-mail or text"),
    OUTSIDE_HOURS: N_("outside calling hours"),
    HOLIDAY: N_("public holiday: %(name)s"),
}
# A call's line before its disposition is recorded (the telephony provider's statuses).
LINES = {
    "dialling": N_("dialling"), "queued": N_("dialling"), "initiated": N_("dialling"),
    "ringing": N_("ringing"), "in-progress": N_("in progress"), "answered": N_("in progress"),
    "completed": N_("ended"), "busy": N_("line busy"), "no-answer": N_("not answered"),
    "failed": N_("could not be placed"), "not-placed": N_("could not be placed"),
    "canceled": N_("call cancelled"),
}  # fmt: skip
IDLE = {
    EMPTY: N_("Your list is empty: nobody is left to call."),
    ELSEWHERE: N_("The cases that can be called now are open at another desk; try again "
                  "shortly."),
    CALLBACK: N_("The next cases wait for the time their customers asked to be called back."),
    RETRY: N_("The next cases wait for their retry after an unanswered call."),
    NOTICE: N_("Calls wait for customers to answer their e-mail or text."),
    OUTSIDE_HOURS: N_("Nobody can be called now: calling hours are %(hours)s on the customers' "
                      "clocks."),
    HOLIDAY: N_("Nobody can be called now: today is a public holiday for the customers "
                "(%(holiday)s); calling hours are %(hours)s on their clocks."),
}  # fmt: skip
# What the calling services refuse in fixed words, said in the user's language (the others,
# which name a value, are shown as they come).
REFUSALS = (
    N_("an outcome can only follow a call where the customer was reached"),
    N_("a reached call needs its outcome, or the time the customer asked to be called back"),
    N_("an escalation needs a reason for the specialist"),
    N_("another desk is working this case right now"),
    N_("a name alone would list strangers: add the caller's postal code (e.g. Laurent 69001)"),
    N_("add the caller's last name to the postal code (e.g. Laurent 69001)"),
    N_("the recall's hotline is not a phone number that can be shown to callers"),
)


@dataclass(frozen=True)
class DeskWords:
    """What an agent's page says for codes and instants, in their language and on their clock:
    `words("status", code)` as every page says it, and the desk's own words."""

    language: str
    clocks: Clocks
    now: dt.datetime

    def __call__(self, kind: str, code: str | None) -> str:
        return Words(self.language)(kind, code)

    def say(self, message: str, **values: Any) -> str:
        said = i18n.gettext_for(self.language)(message)
        return said % values if values else said

    def disposition(self, code: str) -> str:
        return self.say(dict(DISPOSITIONS).get(code) or code)

    def dispositions(self) -> list[tuple[str, str]]:
        return [(code, self.say(label)) for code, label in DISPOSITIONS]

    def call(self, code: str) -> str:
        """A call in a case's history: its disposition, else how far its line got."""
        message = dict(DISPOSITIONS).get(code) or LINES.get(code)
        return self.say(message) if message else code

    def waiting(self, code: str, holiday: str = "") -> str:
        """What a case not callable now waits for."""
        return self.say(WAITS[code], name=holiday) if code in WAITS else code

    def happened(self, line: HistoryLine) -> str:
        """A line of a case's history: "Appel : Pas de réponse, 40 s", "avisé → en contact"."""
        if line.call:
            said = self.say(N_("Call: %(what)s"), what=self.call(line.call))
            if line.duration_s:
                said += f", {i18n.number(line.duration_s, self.language)} s"
            return said
        step = self("status", line.new_status)
        if line.old_status and line.old_status != line.new_status:
            step = f"{self('status', line.old_status)} → {step}"
        return f"{step} ({self('channel', line.channel)})" if line.channel else step

    def slot(self, code: str | None) -> str:
        """A call-back slot the customer chose ("2026-12-07 morning"): "7 décembre 2026, matin"."""
        day, _, part = (code or "").partition(" ")
        try:
            return f"{i18n.long_date(dt.date.fromisoformat(day), self.language)}, {self.say(part)}"
        except ValueError:
            return code or ""

    def language_name(self, code: str) -> str:
        """A customer's language in the user's own: "néerlandais"."""
        return _language_name(code, self.language)

    def hours(self, windows: tuple[CallingWindow, ...]) -> str:
        """Calling hours with the days in the user's language: "lun.-ven. 09:00-20:00"."""
        names = get_day_names("abbreviated", locale=self.language)
        days = {day.capitalize(): names[n] for n, day in enumerate(DAYS)}
        return re.sub(r"\b[A-Z][a-z]{2}\b", lambda m: days[m.group()], hours_text(windows))

    def mine(self, at: dt.datetime | None) -> str:
        """On the user's clock; the day only when it is not today there."""
        return self.clocks.mine(at, day=not _today(at, self.now, self.clocks.zone)) if at else ""

    def theirs(self, at: dt.datetime | None, zone: str | None) -> str:
        """On the customer's clock, labelled; the day only when it is not today there."""
        shown = zone if zone and known_zone(zone) else self.clocks.zone
        return self.clocks.theirs(at, shown, day=not _today(at, self.now, shown)) if at else ""

    def both(self, at: dt.datetime, zone: str | None) -> str:
        """An instant on the user's clock, then on the customer's, each labelled."""
        return self.say(N_("%(mine)s, %(label)s, that is %(theirs)s"), mine=self.mine(at),
                        label=self.clocks.mine_label, theirs=self.theirs(at, zone))  # fmt: skip

    def customer_now(self, zone: str | None) -> str:
        """What time it is where the customer is: "Il est 10:30 chez le client (Paris)"."""
        shown = zone if zone and known_zone(zone) else self.clocks.zone
        theirs = Clocks(shown, self.language)
        return self.say(N_("It is %(time)s at the customer's (%(city)s)."),
                        time=theirs.mine(self.now, day=False), city=theirs.city(shown))  # fmt: skip

    def nothing_to_call(self, idle: NothingToCall) -> str:
        """Why no case can be called now, and when the first one can be, on both clocks."""
        why = self.say(IDLE.get(idle.reason, idle.reason), hours=self.hours(idle.hours),
                       holiday=idle.holiday or "")  # fmt: skip
        if idle.next_at is None or idle.reason == ELSEWHERE:
            return why
        first = self.say(
            N_("First possible call: %(when)s."), when=self.both(idle.next_at, idle.zone)
        )
        return f"{why} {first}"


def _today(at: dt.datetime | None, now: dt.datetime, zone: str) -> bool:
    tz = ZoneInfo(zone)
    return at is not None and at.astimezone(tz).date() == now.astimezone(tz).date()


@lru_cache(maxsize=512)
def _language_name(code: str, language: str) -> str:
    try:
        return Locale.parse(code).get_language_name(language) or code
    except (ValueError, TypeError, UnknownLocaleError):
        return code


def desk_words(request: Request) -> DeskWords:
    """The desk's words for the request's user: their language, their clock, the time now."""
    app = request.app.state.recall
    language = page_language(request, app.settings.home_language)
    return DeskWords(language, clocks_of(request, language, app.settings.home_zone), app.clock())
