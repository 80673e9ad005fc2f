"""The validated call script, filled in for one case, in the customer's language."""

from __future__ import annotations

from pathlib import Path

from recall.calling.case_card import CaseCard
from recall.domain.definition import REMEDY_WORDS, RecallDefinition
from recall.settings import PROJECT_TEMPLATES


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:  # a field the script names that we don't fill
        return "{" + key + "}"


def call_script(
    *,
    templates_dir: Path,
    definition: RecallDefinition,
    card: CaseCard,
    agent_name: str,
    hotline: str,
    home_language: str,
    inbound: bool = False,
    postal_code: str = "-",
) -> list[str]:
    """The script's paragraphs for the case, in the customer's language, else the home one:
    the call script, or for a customer calling the hotline the inbound one (which checks the
    caller's `postal_code`, the one on file)."""
    language, path = _script_file(templates_dir, "inbound" if inbound else "call",
                                  card.language, home_language)  # fmt: skip
    words = REMEDY_WORDS.get(language, REMEDY_WORDS["en"])
    remedies = ", ".join(words.get(r, r) for r in definition.remedies)
    fields = _Blank(
        agent=agent_name, customer=card.customer, quantity=str(card.quantity), lots=card.lots,
        product=definition.product_name or card.recall_title, remedies=remedies,
        last_purchase=card.last_purchase.isoformat(), risk=definition.risk_in(language),
        hotline=definition.hotline or hotline or "-", case_ref=card.case_ref,
        postal_code=postal_code,
    )  # fmt: skip
    text = path.read_text(encoding="utf-8")
    return [part.strip().format_map(fields) for part in text.split("\n\n") if part.strip()]


def _script_file(folder: Path, name: str, language: str, home_language: str) -> tuple[str, Path]:
    """The script in the customer's language, else the home one; a templates folder of an
    earlier version, without this script, gets the shipped one."""
    for base in (folder, PROJECT_TEMPLATES / "scripts"):
        for lang in (language, home_language):
            if (base / f"{name}.{lang}.txt").exists():
                return lang, base / f"{name}.{lang}.txt"
    return home_language, folder / f"{name}.{home_language}.txt"  # reading it says what is missing
