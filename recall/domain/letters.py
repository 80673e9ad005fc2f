"""What a letter may say and how letters are ordered: rules with no printing in them."""

from __future__ import annotations

import datetime as dt

# Fields a letter template may use. Those that differ from one customer to the next are
# "personal": a section that uses none of them is the same in every letter of a recall and is
# laid out once per batch file.
PERSONAL_FIELDS = frozenset({
    "salutation", "first_name", "last_name", "customer_id", "case_ref", "quantity", "lots",
    "purchase_date", "store_name", "store_city", "address", "page_link",
})  # fmt: skip
RECALL_FIELDS = frozenset({
    "recall_id", "recall_title", "product_name", "skus", "risk", "hotline", "hotline_hours",
    "remedies", "retailer_name", "website", "signatory", "signatory_title", "letter_date",
    "place", "sold_from", "sold_to", "hazard", "brand", "model", "eans", "recalled_lots",
    "lot_location", "image",
})  # fmt: skip
# Public notices carry no internal figure (units sold without a card, customers with no
# contact): the stores that sold the product, and the recall's own fields.
NOTICE_FIELDS = frozenset({"stores"})
LETTER_SECTIONS = ("title", "subject", "opening", "body", "answer", "signature")
POSTER_SECTIONS = ("title", "product", "risk", "action")
PRESS_SECTIONS = ("notice",)

_MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "en": "January February March April May June July August September October November December",
}
_SALUTATION = {"fr": "Bonjour {name}", "en": "Dear {name}"}
_DEFAULT_SALUTATION = {"fr": "Madame, Monsieur", "en": "Dear customer"}


def long_date(day: dt.date, language: str) -> str:
    """23 novembre 2026 / 23 November 2026; ISO for a language without month names."""
    months = _MONTHS.get(language)
    if not months:
        return day.isoformat()
    return f"{day.day} {months.split()[day.month - 1]} {day.year}"


def short_date(day: dt.date, language: str) -> str:
    """14/03/2026 in French, 14 March 2026 in English."""
    return day.strftime("%d/%m/%Y") if language == "fr" else long_date(day, language)


def salutation(first_name: str | None, last_name: str | None, language: str) -> str:
    """How the letter greets the customer, by name when the loyalty card has one."""
    name = " ".join(p for p in (first_name, last_name) if p)
    if not name:
        return _DEFAULT_SALUTATION.get(language, _DEFAULT_SALUTATION["en"])
    return _SALUTATION.get(language, _SALUTATION["en"]).format(name=name)


def presort_key(country: str | None, postal_code: str | None, seq: int) -> tuple[str, str, int]:
    """Letters go to the print house sorted by country then postal code (postal presort)."""
    return (country or "", (postal_code or "").replace(" ", ""), seq)


def batch_plan(count: int, batch_size: int, first_batch: int) -> list[tuple[int, int]]:
    """(batch_no, position) for `count` letters in presort order, batches of `batch_size`."""
    if batch_size < 1:
        raise ValueError("a letter batch holds at least one letter")
    return [(first_batch + i // batch_size, i % batch_size + 1) for i in range(count)]


def batch_file(batch_no: int) -> str:
    return f"letters-{batch_no:04d}.pdf"


ALL_LOTS = {"fr": "tous les lots", "en": "all lots"}
_REFERENCE = {"fr": "Référence du dossier : {ref}", "en": "Case reference: {ref}"}
_DATED = {"fr": "{place}, le {date}", "en": "{place}, {date}"}


def reference_line(case_ref: str, language: str) -> str:
    return _REFERENCE.get(language, _REFERENCE["en"]).format(ref=case_ref)


def dated_line(place: str, day: dt.date, language: str) -> str:
    """Lyon, le 23 novembre 2026."""
    return _DATED.get(language, _DATED["en"]).format(place=place, date=long_date(day, language))
