"""What a recall's letters say: where they go and how they are made, the fields all its
letters (and posters) share, and each letter's page, read in bulk from the database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recall.clock import Clock
from recall.db.models import Case, Customer, Letter, Product, Store
from recall.db.secrets import page_key
from recall.domain import letters as rules
from recall.domain.definition import RecallDefinition, lots_in_words
from recall.domain.page_tokens import make_token, page_link
from recall.notices.address_review import block_of
from recall.notices.letter_pdf import LetterPage
from recall.notices.render import BatchJob
from recall.notices.templates import TemplateSet


@dataclass(frozen=True)
class LetterSettings:
    out_dir: Path  # $RECALL_DATA_DIR/letters/<recall_id>
    templates_dir: Path
    fonts_dir: Path
    home_language: str = "fr"
    home_country: str = "FR"
    batch_size: int = 1000
    workers: int = 2
    page_base: str = ""  # the self-service page's address: each letter's link and QR code


def shared_fields(
    engine: Engine, definition: RecallDefinition, templates: TemplateSet, clock: Clock
) -> dict[str, dict[str, Any]]:
    """Per letter language: the recall's fields, the same in every letter."""
    retailer = templates.retailer
    product = definition.product_name or _catalogue_name(engine, definition) or definition.skus[0]
    today = clock().date()
    shared = {}
    for language in templates.languages("letter"):
        template = templates.get("letter", language)
        shared[language] = {
            "recall_id": definition.id,
            "recall_title": definition.title,
            "product_name": product,
            "skus": ", ".join(definition.skus),
            "risk": definition.risk_in(language),
            "hotline": definition.hotline or retailer.get("hotline", language),
            "hotline_hours": retailer.get("hotline_hours", language),
            "remedies": template.remedies(definition.remedies),
            "retailer_name": retailer.get("name", language),
            "website": retailer.get("website", language),
            "signatory": retailer.get("signatory", language),
            "signatory_title": retailer.get("signatory_title", language),
            "place": retailer.get("place", language),
            "letter_date": rules.long_date(today, language),
            "letter_line": rules.dated_line(retailer.get("place", language), today, language),
            "sold_from": rules.short_date(definition.sold_from, language),
            "sold_to": rules.short_date(definition.sold_to, language),
            "hazard": definition.hazard,
            "brand": definition.brand,
            "model": definition.model,
            "eans": ", ".join(definition.skus),
            "recalled_lots": _recalled_lots(definition, language),
            "lot_location": definition.lot_location.get(language)
            or definition.lot_location.get("")
            or "",
            "image": definition.image,
        }
    return shared


def _recalled_lots(definition: RecallDefinition, language: str) -> str:
    """lots L4410 à L4420 et L4433; with several products, each by its EAN."""
    if len(definition.products) == 1:
        return lots_in_words(definition.products[0], language)
    return "; ".join(f"EAN {p.sku} : {lots_in_words(p, language)}" for p in definition.products)


def _catalogue_name(engine: Engine, definition: RecallDefinition) -> str | None:
    with Session(engine) as session:
        return session.scalar(select(Product.name).where(Product.sku.in_(definition.skus)).limit(1))


_PERSONAL = (
    select(
        Letter.case_id,
        Letter.language,
        Case.case_ref,
        Case.customer_id,
        Case.quantity,
        Case.lots,
        Case.stores,
        Case.first_purchase,
        Customer.first_name,
        Customer.last_name,
        Customer.address_line1,
        Customer.address_line2,
        Customer.postal_code,
        Customer.city,
        Customer.country,
    )
    .join(Case, Case.id == Letter.case_id)
    .join(Customer, Customer.customer_id == Case.customer_id)
)


def batch_job(
    engine: Engine,
    definition: RecallDefinition,
    config: LetterSettings,
    templates: TemplateSet,
    shared: dict[str, dict[str, Any]],
    stores: dict[str, tuple[str, str]],
    batch_no: int,
) -> BatchJob:
    with Session(engine) as session:
        rows = session.execute(
            _PERSONAL.where(
                Letter.recall_id == definition.id, Letter.batch_no == batch_no
            ).order_by(Letter.position)
        ).all()
    retailer = templates.retailer
    sender = [retailer.get("name", config.home_language), *retailer.values.get("address", [])]
    key = page_key(engine) if config.page_base else None
    return BatchJob(
        batch_no=batch_no,
        path=config.out_dir / rules.batch_file(batch_no),
        templates_dir=config.templates_dir,
        fonts_dir=config.fonts_dir,
        home_language=config.home_language,
        title=f"{definition.id} - letters, batch {batch_no}",
        sender=sender,
        footer=f"{sender[0]} - {retailer.get('website', config.home_language)}",
        shared=shared,
        letters=[(row.case_id, _page(row, stores, config, key)) for row in rows],
    )


def store_names(engine: Engine) -> dict[str, tuple[str, str]]:
    """store_id -> (name, city), read once per run rather than once per batch."""
    with Session(engine) as session:
        rows = session.execute(select(Store.store_id, Store.name, Store.city)).all()
    return {store_id: (name or store_id, city or "") for store_id, name, city in rows}


def _page(
    row: Any, stores: dict[str, tuple[str, str]], config: LetterSettings, key: bytes | None
) -> LetterPage:
    language = row.language
    bought_at = [stores.get(s, (s, "")) for s in row.stores.split(",") if s]
    # Planning set aside every address that can't be printed: these lines are compliant.
    lines = list(block_of(row, config.home_country, config.home_language).lines)
    context = {
        "salutation": rules.salutation(row.first_name, row.last_name, language),
        "first_name": row.first_name or "",
        "last_name": row.last_name or "",
        "customer_id": row.customer_id,
        "case_ref": row.case_ref,
        "quantity": row.quantity,
        "lots": row.lots.replace(",", ", "),  # the customer's own, when the till recorded it
        "purchase_date": rules.short_date(row.first_purchase, language),
        "store_name": ", ".join(name for name, _ in bought_at) or "-",
        "store_city": ", ".join(dict.fromkeys(city for _, city in bought_at if city)),
        "address": lines,
        "reference_line": rules.reference_line(row.case_ref, language),
        "page_link": page_link(config.page_base, make_token(row.case_id, key)) if key else "",
    }
    # Upper case: the QR code holds it in its compact alphanumeric mode, and the page answers
    # /R/ as /r/ (a scheme and a host are read in any case).
    return LetterPage(row.case_ref, language, lines, context, context["page_link"].upper())
