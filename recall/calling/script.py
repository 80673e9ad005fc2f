"""The validated call script, filled in for one case, in the customer's language, as an agent
says it: their own name, the customer's, a quantity and lots with their plurals, a spoken date,
the remedies as a list. A specialist calling an escalated case back reads the script of their
skill (`specialist-<skill>.<language>.txt`), else the generic specialist one."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from babel.dates import format_date
from babel.lists import format_list
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recall import i18n
from recall.calling.case_card import CaseCard
from recall.db.models import Agent, Case, Customer, User
from recall.domain.definition import REMEDY_WORDS, RecallDefinition
from recall.settings import PROJECT_TEMPLATES

SKILL_NAME = re.compile(r"[a-z0-9_-]{1,40}")  # a skill that can be part of a file name
# English said day first, as the English customers of a French retailer write it.
SPOKEN_LOCALES = {"en": "en_GB"}


def N_(message: str) -> str:
    """A message to translate later, marked for the catalogue."""
    return message


# What the specialist script says an escalation was for; another skill is named as it is.
REASONS = {
    "health": N_("a health problem reported with the product"),
    "escalation": N_("a request the first adviser could not settle"),
}


@dataclass(frozen=True)
class SpokenNames:
    agent: str  # the agent's display name, as the roster gives it
    customer: str | None  # None: no name on file


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:  # a field the script names that we don't fill
        return "{" + key + "}"


def spoken_names(*, engine: Engine, username: str, case_id: int) -> SpokenNames:
    """The name the console user says on the phone (their agent's), and the customer's."""
    with Session(engine) as session:
        agent = session.scalar(
            select(Agent.name)
            .join(User, User.agent_id == Agent.agent_id)
            .where(User.username == username)
        )
        first, last = session.execute(
            select(Customer.first_name, Customer.last_name)
            .join(Case, Case.customer_id == Customer.customer_id)
            .where(Case.id == case_id)
        ).one()
    customer = " ".join(p.strip() for p in (first, last) if p and p.strip())
    return SpokenNames(agent=(agent or "").strip() or username, customer=customer or None)


def call_script(
    *,
    templates_dir: Path,
    definition: RecallDefinition,
    card: CaseCard,
    names: SpokenNames,
    hotline: str,
    home_language: str,
    inbound: bool = False,
    postal_code: str = "-",
    skill: str | None = None,
) -> list[str]:
    """The script's paragraphs for the case, in the customer's language, else the home one:
    the call script; for a customer calling the hotline the inbound one (which checks the
    caller's `postal_code`, the one on file); for a specialist calling back an escalated case
    (`skill`, its escalation reason; None or "": none) the script of that skill, else the
    generic specialist one."""
    scripts = _scripts_for(skill, inbound)
    language, path = _script_file(templates_dir, scripts, card.language, home_language)
    fields = _Blank(
        _case_fields(definition, card, names, language),
        hotline=definition.hotline or hotline or "-", case_ref=card.case_ref,
        postal_code=_postal_code(postal_code, language),
        reason=_reason(skill or "", language),
    )  # fmt: skip
    text = path.read_text(encoding="utf-8")
    return [part.strip().format_map(fields) for part in text.split("\n\n") if part.strip()]


def _case_fields(
    definition: RecallDefinition, card: CaseCard, names: SpokenNames, language: str
) -> dict[str, str]:
    """The fields said of the case: each a whole phrase, never an empty bracket."""
    _ = i18n.gettext_for(language)
    lots = [lot.strip() for lot in card.lots.split(",") if lot.strip()]
    remedies = _remedies(definition.remedies, language)
    return {
        "agent": names.agent,
        "customer": names.customer or _("the holder of the store's loyalty card"),
        "product": definition.product_name or card.recall_title,
        "quantity": i18n.number(card.quantity, language),
        "items": _items(card.quantity, language),
        "lots": format_list(lots, locale=language) if lots else "-",
        "from_lots": _from_lots(lots, language),
        "last_purchase": spoken_date(card.last_purchase, language),
        "risk": _sentence(definition.risk_in(language)),
        "remedies": remedies,
        "choice": _("Which would you prefer?") if len(definition.remedies) > 1
        else _("Would that suit you?"),
    }  # fmt: skip


def _items(quantity: int, language: str) -> str:
    ngettext = i18n.ngettext_for(language)
    return ngettext("one unit", "%(num)s units", quantity) % {
        "num": i18n.number(quantity, language)
    }


def _from_lots(lots: list[str], language: str) -> str:
    """ ", from lots L4415 and L4433," to put after the product, or nothing with no lot known."""
    if not lots:
        return ""
    ngettext = i18n.ngettext_for(language)
    said = ngettext("from lot %(lots)s", "from lots %(lots)s", len(lots))
    return f", {said % {'lots': format_list(lots, locale=language)}},"


def _remedies(remedies: tuple[str, ...], language: str) -> str:
    words = REMEDY_WORDS.get(language, REMEDY_WORDS["en"])
    said = [words.get(r, r.replace("_", " ")) for r in remedies]
    return format_list(said, style="or", locale=language) if said else "-"


def spoken_date(day: dt.date, language: str) -> str:
    """A day as said on the phone: "1er juin 2026", "11 juin 2026", "11 June 2026"."""
    if language == "fr" and day.day == 1:
        return f"1er {format_date(day, 'MMMM y', locale='fr')}"
    return format_date(day, format="long", locale=SPOKEN_LOCALES.get(language, language))


def _sentence(text: str) -> str:
    """A text as a sentence of its own: a capital first, a full stop last."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in '.!?…»"' else f"{text}."


def _postal_code(code: str, language: str) -> str:
    _ = i18n.gettext_for(language)
    return code if code.strip() not in ("", "-") else _("none on file")


def _reason(skill: str, language: str) -> str:
    skill = skill.strip().lower()
    return i18n.gettext_for(language)(REASONS[skill]) if skill in REASONS else skill or "-"


def _scripts_for(skill: str | None, inbound: bool) -> tuple[str, ...]:
    """The scripts to look for, best first."""
    if not skill:
        return ("inbound",) if inbound else ("call",)
    skill = skill.strip().lower()
    return (f"specialist-{skill}", "specialist") if SKILL_NAME.fullmatch(skill) else ("specialist",)


def _script_file(
    folder: Path, names: tuple[str, ...], language: str, home_language: str
) -> tuple[str, Path]:
    """The first script found, in the customer's language, else the home one; a templates
    folder of an earlier version, without this script, gets the shipped one."""
    for name in names:
        for base in (folder, PROJECT_TEMPLATES / "scripts"):
            for lang in (language, home_language):
                if (base / f"{name}.{lang}.txt").exists():
                    return lang, base / f"{name}.{lang}.txt"
    last = names[-1]
    return home_language, folder / f"{last}.{home_language}.txt"  # reading it says what is missing
