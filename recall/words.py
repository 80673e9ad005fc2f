"""The words recall says for the codes the data holds (stages, statuses, channels, outcomes,
outbox states, fulfilments, incidents), in the reader's language: one list for the console's
pages, the call sheets and the reports.

The codes stay in forms, URLs and CSV files; a page shows `words(kind, code)`. A code with no
word yet (a provider's new SMS status) is shown as it is, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.numbers import format_currency, format_percent

from recall import i18n


def N_(message: str) -> str:
    """Marks a message for the catalogue; it is said later, in the reader's language."""
    return message


# The funnel's stages and the side statuses, as counts of cases ("Résolus: 12").
STAGES = {
    "identified": N_("Identified"),
    "notified": N_("Notified"),
    "contacted": N_("Contacted"),
    "resolved": N_("Resolved"),
    "unreachable": N_("Unreachable"),
    "declined": N_("Declined"),
    "escalated": N_("Escalated"),
}
# One case's status ("this case is resolved").
STATUSES = {
    "identified": N_("identified, not notified yet"),
    "notified": N_("notified"),
    "contacted": N_("in touch"),
    "resolved": N_("settled"),
    "unreachable": N_("unreachable"),
    "declined": N_("declined the remedy"),
    "escalated": N_("with a specialist"),
}
# How a case is worked (its channel at identification, and now), and how a notice or a
# contact came (cases.notified_by, the events' channels).
CHANNELS = {
    "letter": N_("Regular mail"),
    "call": N_("Calls"),
    "notice": N_("Public notice only"),
    "email": N_("E-mail"),
    "sms": N_("SMS"),
    "web": N_("Self-service page"),
    "phone": N_("Phone"),
    "voicemail": N_("Voicemail message"),
    "hotline": N_("Phone (hotline)"),
    "store": N_("In a store"),
    "till": N_("At a store's till"),
    "console": N_("Console"),
    "system": N_("recall itself"),
}
OUTCOMES = {
    "refund": N_("refund"),
    "replacement": N_("replacement"),
    "repair": N_("repair"),
    "not_in_possession": N_("no longer has the product"),
    "declined": N_("declined"),
    "escalated": N_("passed to a specialist"),
    "do_not_call": N_("asked not to be called"),
    "returned_in_store": N_("brought back to a store"),
}
EMAIL_STATES = {
    "queued": N_("waiting to be sent"),
    "handed_over": N_("handed to the mail server"),
    "sent": N_("sent"),
    "bounced": N_("bounced"),
    "failed": N_("refused"),
    "skipped": N_("not sent"),
}
SMS_STATES = {
    "waiting": N_("waiting to be sent"),
    "sending": N_("being sent"),
    "accepted": N_("accepted by the operator"),
    "queued": N_("accepted by the operator"),
    "sent": N_("sent"),
    "delivered": N_("delivered"),
    "read": N_("read"),
    "undelivered": N_("not delivered"),
    "failed": N_("refused"),
    "canceled": N_("cancelled"),
    "cancelled": N_("cancelled"),
}
FULFILMENTS = {
    "refund_paid": N_("Refund paid"),
    "replacement_shipped": N_("Replacement shipped"),
    "repair_done": N_("Repair done"),
    "returned_to_store": N_("Returned to a store"),
    "collected": N_("Collected"),
    "destroyed": N_("Destroyed"),
}
SOURCES = {"console": N_("console"), "file": N_("file"), "cli": N_("command line"),
           "till": N_("till")}  # fmt: skip
SEVERITIES = {
    "none": N_("no harm"),
    "property_damage": N_("damage to property"),
    "injury": N_("an injury"),
    "death": N_("a death"),
}
SKILLS = {"health": N_("a health specialist"), "escalation": N_("a specialist")}
HAZARDS = {"high": N_("high"), "medium": N_("medium"), "low": N_("low")}

VOCABULARY = {
    "stage": STAGES, "status": STATUSES, "channel": CHANNELS, "outcome": OUTCOMES,
    "email": EMAIL_STATES, "sms": SMS_STATES, "fulfilment": FULFILMENTS, "source": SOURCES,
    "severity": SEVERITIES, "skill": SKILLS, "hazard": HAZARDS,
}  # fmt: skip


@dataclass(frozen=True)
class Words:
    """The words of one language: `words("status", "resolved")` -> "réglé"."""

    language: str

    def __call__(self, kind: str, code: str | None) -> str:
        if not code:
            return ""
        message = VOCABULARY[kind].get(code)
        return i18n.gettext_for(self.language)(message) if message else code.replace("_", " ")

    def percent(self, share: float) -> str:
        """A share as the language writes it: "16,7 %", "16.7%"."""
        pattern = Locale.parse(self.language).percent_formats[None].pattern  # "#,##0\u00a0%"
        return format_percent(share, pattern.replace("0", "0.0", 1), locale=self.language)

    def money(self, amount: str | None, currency: str | None) -> str:
        """An amount as the language writes it: "49,90 €", "€49.90"; as stored if unreadable."""
        if not amount:
            return ""
        try:
            return format_currency(Decimal(amount), currency or "EUR", locale=self.language)
        except (InvalidOperation, ValueError):
            return f"{amount} {currency or ''}".strip()
