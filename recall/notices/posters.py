"""Public notices for buyers no letter or call can reach: in-store posters, a press notice."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from recall.clock import Clock, utc_now
from recall.db.models import Case, Recall, RecallStore, Store
from recall.domain import letters as rules
from recall.domain.definition import RecallDefinition
from recall.filenames import file_part
from recall.notices.letter_fields import LetterSettings, shared_fields
from recall.notices.letter_pdf import register_fonts, write_poster
from recall.notices.templates import TemplateSet
from recall.spreadsheet import write_frame


@dataclass
class NoticeReport:
    posters: list[Path] = field(default_factory=list)
    press: list[Path] = field(default_factory=list)
    notice_only: Path | None = None


def make_notices(
    *,
    engine: Engine,
    definition: RecallDefinition,
    config: LetterSettings,
    templates: TemplateSet,
    clock: Clock = utc_now,
) -> NoticeReport:
    """A poster per store that sold affected units, the press notice, the notice-only list."""
    register_fonts(str(config.fonts_dir))
    out = config.out_dir
    (out / "posters").mkdir(parents=True, exist_ok=True)
    language = config.home_language
    shared = shared_fields(engine, definition, templates, clock)
    fields = dict(shared[language])
    with Session(engine) as session:
        recall = session.get(Recall, definition.id)
        stores = session.execute(
            select(RecallStore.store_id, Store.name, Store.city)
            .outerjoin(Store, Store.store_id == RecallStore.store_id)
            .where(RecallStore.recall_id == definition.id)
            .order_by(RecallStore.store_id)
        ).all()
        notice_only = session.scalar(
            select(func.count()).where(Case.recall_id == definition.id, Case.notice_only.is_(True))
        )
    fields |= {
        "lots": ", ".join(p for product in definition.products for p in product.lot_patterns)
        or rules.ALL_LOTS.get(language, "-"),
        "untraceable_units": recall.untraceable_units if recall else 0,
        "notice_only": notice_only or 0,
        "stores": ", ".join(name or store_id for store_id, name, _ in stores),
    }
    report = NoticeReport()
    poster = templates.get("poster", language)
    sections = {name: poster.render(name, fields) for name in poster.sections}
    for store_id, name, city in stores:
        path = out / "posters" / f"poster-{file_part(store_id)}.pdf"
        where = " - ".join(p for p in (name or store_id, city) if p)
        write_poster(path, sections, f"{fields['retailer_name']} - {where}")
        report.posters.append(path)
    for press_language in templates.languages("press"):
        press = templates.get("press", press_language)
        local = dict(shared.get(press_language, fields))
        local |= {k: fields[k] for k in ("lots", "untraceable_units", "notice_only", "stores")}
        local["remedies"] = press.remedies(definition.remedies)
        path = out / f"press-notice.{press_language}.txt"
        path.write_text(press.render("notice", local) + "\n", encoding="utf-8")
        report.press.append(path)
    report.notice_only = _notice_only_list(engine, definition.id, out)
    return report


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
