"""Public notices for buyers no letter or call can reach: in-store posters, a public notice."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recall.clock import Clock, utc_now
from recall.db.models import Case, RecallStore, Store
from recall.domain import letters as rules
from recall.domain.definition import RecallDefinition
from recall.filenames import file_part
from recall.notices.letter_fields import LetterSettings, shared_fields
from recall.notices.letter_pdf import register_fonts, write_poster
from recall.notices.public_notice import write_public_notice
from recall.notices.templates import Template, TemplateSet
from recall.spreadsheet import write_frame


@dataclass
class NoticeReport:
    posters: list[Path] = field(default_factory=list)
    public: list[Path] = field(default_factory=list)  # the public notice: .txt and .html
    notice_only: Path | None = None

    @property
    def public_languages(self) -> list[str]:
        """public-notice.fr.txt and .html -> fr."""
        return sorted({path.stem.rsplit(".", 1)[-1] for path in self.public})


def make_notices(
    *,
    engine: Engine,
    definition: RecallDefinition,
    config: LetterSettings,
    templates: TemplateSet,
    clock: Clock = utc_now,
) -> NoticeReport:
    """Posters for each store that sold affected units, in every language with a poster
    template; the public notice, as text and a page to publish; the notice-only list."""
    register_fonts(str(config.fonts_dir))
    out = config.out_dir
    (out / "posters").mkdir(parents=True, exist_ok=True)
    shared = shared_fields(engine, definition, templates, clock)
    with Session(engine) as session:
        stores = session.execute(
            select(RecallStore.store_id, Store.name, Store.city)
            .outerjoin(Store, Store.store_id == RecallStore.store_id)
            .where(RecallStore.recall_id == definition.id)
            .order_by(RecallStore.store_id)
        ).all()
    names = ", ".join(name or store_id for store_id, name, _ in stores)
    report = NoticeReport()
    for language in templates.languages("poster"):
        poster = templates.get("poster", language)
        fields = _fields(shared, language, config.home_language, definition, poster, names)
        sections = {name: poster.render(name, fields) for name in poster.sections}
        for store_id, name, city in stores:
            suffix = "" if language == config.home_language else f".{language}"
            path = out / "posters" / f"poster-{file_part(store_id)}{suffix}.pdf"
            where = " - ".join(p for p in (name or store_id, city) if p)
            write_poster(path, sections, f"{fields['retailer_name']} - {where}", definition.image)
            report.posters.append(path)
    for language in templates.languages("press"):
        notice = templates.get("press", language)
        fields = _fields(shared, language, config.home_language, definition, notice, names)
        text = notice.render("notice", fields)
        report.public += write_public_notice(out, language, text, definition.image)
    report.notice_only = _notice_only_list(engine, definition.id, out)
    return report


def _fields(
    shared: dict[str, dict[str, Any]], language: str, home: str,
    definition: RecallDefinition, template: Template, stores: str,
) -> dict[str, Any]:  # fmt: skip
    """The recall's fields in `language` (else the home one), with the template's remedies."""
    fields = dict(shared.get(language) or shared[home])
    fields |= {
        "lots": ", ".join(p for product in definition.products for p in product.lot_patterns)
        or rules.ALL_LOTS.get(language, "-"),
        "stores": stores,
        "remedies": template.remedies(definition.remedies),
    }
    return fields


def _notice_only_list(engine: Engine, recall_id: str, out: Path) -> Path:
    """Cases reached only by posters and press, per store, for the stores' own follow-up."""
    query = (
        select(Case.stores, Case.case_ref, Case.customer_id, Case.quantity, Case.lots)
        .where(Case.recall_id == recall_id, Case.notice_only.is_(True))
        .order_by(Case.stores, Case.seq)
    )
    with engine.connect() as connection:
        frame = pd.read_sql(query, connection)
    path = out / "notice-only.csv"
    write_frame(frame, path, encoding="utf-8-sig")
    return path
