"""The validated call script, filled in for one case, in the customer's language."""

from __future__ import annotations

from pathlib import Path

from recall.calling.case_card import CaseCard
from recall.domain.definition import REMEDY_WORDS, RecallDefinition


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
) -> list[str]:
    """The script's paragraphs for the case, in the customer's language, else the home one."""
    language = card.language
    path = templates_dir / f"call.{language}.txt"
    if not path.exists():
        language = home_language
        path = templates_dir / f"call.{language}.txt"
    words = REMEDY_WORDS.get(language, REMEDY_WORDS["en"])
    remedies = ", ".join(words.get(r, r) for r in definition.remedies)
    fields = _Blank(
        agent=agent_name, customer=card.customer, quantity=str(card.quantity), lots=card.lots,
        product=definition.product_name or card.recall_title, remedies=remedies,
        last_purchase=card.last_purchase.isoformat(), risk=definition.risk_in(language),
        hotline=definition.hotline or hotline or "-", case_ref=card.case_ref,
    )  # fmt: skip
    text = path.read_text(encoding="utf-8")
    return [part.strip().format_map(fields) for part in text.split("\n\n") if part.strip()]
