"""What each table of the loyalty export must hold, and how a batch of rows is checked."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import String

from recall.domain.contacts import FALSY, TRUTHY, CustomerPhone
from recall.domain.emails import email_valid

_ISO_DATE = r"^\d{4}-\d{2}-\d{2}"
_FR_DATE = r"^\d{2}/\d{2}/\d{4}"
# A time after the date, when there is one, must be a real time of day: 00:00 to 23:59, seconds
# to 59 (60 for a leap second), an offset to +-23:59.
_TIME_TAIL = (
    r"^([T ]([01]\d|2[0-3]):[0-5]\d(:([0-5]\d|60)(\.\d+)?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)?)?$"
)
_INTEGER = r"[+-]?[0-9]{1,18}"  # decimal digits only: no 1e3, no 0x10, no inf
_ESCAPED_FORMULA = r"'[=+\-@\t\r]"  # how recall/spreadsheet.py writes a text a spreadsheet runs
MAX_QUANTITY = 100_000
MAX_LINE_NO = 2**31 - 1  # the column is a 32-bit integer on every database


@dataclass
class Checked:
    """A validated batch: rows to load, rejected rows with their reasons, warning counts."""

    rows: pd.DataFrame
    rejects: pd.DataFrame
    warnings: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class TableSpec:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]
    columns: tuple[str, ...]  # as stored, in order
    check: Callable[[pd.DataFrame, Context], tuple[pd.DataFrame, pd.Series, Counter[str]]]
    # Columns computed from the accepted rows, after their content hash (which they follow).
    derive: Callable[[pd.DataFrame], pd.DataFrame] | None = None

    @property
    def known(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass
class Context:
    """What checking a batch needs beyond the batch: defaults and file-wide memory."""

    home_country: str = "FR"
    home_language: str = "fr"
    seen: SeenKeys = field(default_factory=lambda: SeenKeys())
    line_counts: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))


class SeenKeys:
    """Keys already accepted from this file, kept as sorted 64-bit hashes: small and fast."""

    def __init__(self) -> None:
        self._seen = np.empty(0, dtype=np.uint64)

    def first_time(self, keys: pd.DataFrame) -> np.ndarray:
        """True for each row whose key neither came earlier in the batch nor in the file."""
        hashes = pd.util.hash_pandas_object(keys, index=False).to_numpy()
        # One stable sort serves everything: the earlier of two equal keys comes first, the
        # seen keys are searched walking forwards, and the new ones come out sorted.
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        repeated = np.zeros(len(ordered), dtype=bool)
        repeated[1:] = ordered[1:] == ordered[:-1]
        at = np.searchsorted(self._seen, ordered)
        if len(self._seen):
            repeated |= self._seen[at.clip(max=len(self._seen) - 1)] == ordered
        self._seen = np.insert(self._seen, at[~repeated], ordered[~repeated])
        first = np.empty(len(ordered), dtype=bool)
        first[order] = ~repeated
        return first


def _blank_to_none(column: pd.Series) -> pd.Series:
    """Empty text becomes missing (NULL once stored)."""
    return column.where(column != "")


Quoting = tuple[str, pd.Series, str]  # (before, the values as read, after)


def _reason(reasons: pd.Series, mask: pd.Series | np.ndarray, text: str | Quoting) -> pd.Series:
    """Append `text` to the reasons of the rows in `mask` (most batches have none); a text
    quoting each row's value is only spelled out for the rows in `mask`."""
    mask = pd.Series(mask, index=reasons.index)
    if not mask.any():
        return reasons
    if isinstance(text, str):
        addition: str | pd.Series = text
    else:
        before, values, after = text
        addition = before + values[mask].astype(str) + after
    reasons = reasons.copy()
    reasons[mask] = reasons[mask] + addition + "; "
    return reasons


def _require(frame: pd.DataFrame, reasons: pd.Series, names: tuple[str, ...]) -> pd.Series:
    for name in names:
        reasons = _reason(reasons, frame[name] == "", f"{name} is missing")
    return reasons


def parse_integers(text: pd.Series) -> pd.Series:
    """Whole numbers written as decimal digits with an optional sign; anything else -> NaN.

    A clean column takes Arrow's fast cast, unless it holds hexadecimal (`0x10`), which the
    cast reads and a loyalty export never means. The rest is read strictly: `1e3`, `2.0`,
    `inf`, `²` or `1 000` are not quantities.
    """
    values = pa.array(text.array)
    if not (
        pc.any(pc.starts_with(values, "0x")).as_py() or pc.any(pc.starts_with(values, "0X")).as_py()
    ):
        try:
            read = pc.cast(values, pa.int64())
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            pass
        else:
            return pd.Series(read.to_numpy(zero_copy_only=False), index=text.index)
    strict = text.str.fullmatch(_INTEGER).fillna(False).astype(bool)
    return pd.to_numeric(text.where(strict), errors="coerce")


def parse_dates(text: pd.Series) -> pd.Series:
    """ISO date or datetime, or French JJ/MM/AAAA, to 'YYYY-MM-DD'; unreadable -> missing.

    Each distinct text is read once: an export holds a few thousand distinct dates, not
    millions, so the millions of lines only pay for a look-up.
    """
    codes, distinct = pd.factorize(text, use_na_sentinel=True)
    read = _read_dates(pd.Series(distinct))
    return pd.Series(read.array.take(codes, allow_fill=True), index=text.index)


def _read_dates(text: pd.Series) -> pd.Series:
    head = text.str[:10]
    tail_ok = text.str.len() == 10
    if not tail_ok.all():
        tail_ok |= text.str[10:].str.match(_TIME_TAIL).fillna(False).astype(bool)
    iso = head.str.match(_ISO_DATE).fillna(False).astype(bool) & tail_ok
    french = ~iso & head.str.match(_FR_DATE).fillna(False).astype(bool) & tail_ok
    swapped = head.str[6:10] + "-" + head.str[3:5] + "-" + head.str[:2]
    candidate = head.where(iso, swapped.where(french))
    # A date is kept as written once it proves to be a real day.
    real = pd.to_datetime(candidate, format="%Y-%m-%d", errors="coerce").notna()
    return candidate.where(real)


def _check_purchases(
    frame: pd.DataFrame, ctx: Context
) -> tuple[pd.DataFrame, pd.Series, Counter[str]]:
    reasons = _require(
        frame,
        pd.Series("", index=frame.index),
        ("transaction_id", "sku", "purchased_at", "quantity"),
    )
    dates = parse_dates(frame["purchased_at"])
    reasons = _reason(
        reasons,
        dates.isna() & (frame["purchased_at"] != ""),
        ("purchased_at '", frame["purchased_at"], "' is not a date (YYYY-MM-DD or JJ/MM/AAAA)"),
    )
    qty = parse_integers(frame["quantity"])
    bad_qty = (frame["quantity"] != "") & qty.isna()
    reasons = _reason(
        reasons, bad_qty, ("quantity '", frame["quantity"], "' is not a whole number of units")
    )
    too_many = qty.abs() > MAX_QUANTITY
    reasons = _reason(
        reasons,
        too_many,
        ("quantity '", frame["quantity"], f"' is beyond {MAX_QUANTITY:,} units either way"),
    )
    qty = qty.where(~bad_qty & ~too_many)
    reasons = _reason(reasons, qty == 0, "quantity is 0: neither a sale nor a return")
    line_no, reasons = _line_numbers(frame, reasons, ctx)
    rows = pd.DataFrame(
        {
            "transaction_id": frame["transaction_id"],
            "line_no": line_no,
            "customer_id": _blank_to_none(frame["customer_id"]),
            "sku": frame["sku"],
            "lot": _blank_to_none(frame["lot"]),
            "store_id": _blank_to_none(frame["store_id"]),
            "purchased_on": dates,
            "quantity": qty.fillna(0).astype("int64"),
        }
    )
    return rows, reasons, Counter()


def _line_numbers(
    frame: pd.DataFrame, reasons: pd.Series, ctx: Context
) -> tuple[pd.Series, pd.Series]:
    """line_no as given, or a receipt's lines numbered in file order when it is absent."""
    given = parse_integers(frame["line_no"])
    bad = (frame["line_no"] != "") & given.isna()
    reasons = _reason(reasons, bad, ("line_no '", frame["line_no"], "' is not a whole number"))
    outside = (given < 0) | (given > MAX_LINE_NO)
    reasons = _reason(
        reasons,
        outside,
        ("line_no '", frame["line_no"], f"' is outside 0 to {MAX_LINE_NO:,}"),
    )
    given = given.where(~bad & ~outside)
    missing = frame["line_no"] == ""
    if missing.any():
        tids = frame.loc[missing, "transaction_id"]
        before = ctx.line_counts.reindex(tids).fillna(0).to_numpy()
        given[missing] = tids.groupby(tids).cumcount().to_numpy() + 1 + before
        ctx.line_counts = ctx.line_counts.add(tids.value_counts(), fill_value=0)
    return given.fillna(0).astype("int64"), reasons


def _check_customers(
    frame: pd.DataFrame, ctx: Context
) -> tuple[pd.DataFrame, pd.Series, Counter[str]]:
    reasons = _require(frame, pd.Series("", index=frame.index), ("customer_id",))
    warnings: Counter[str] = Counter()
    flag = frame["do_not_call"].str.casefold()
    unreadable = ~flag.isin(TRUTHY | FALSY)
    # A do_not_call we can't read is taken as a refusal: calling someone who said no is worse.
    do_not_call = flag.isin(TRUTHY) | unreadable
    warnings["do_not_call unreadable, taken as yes"] = int(unreadable.sum())
    country = frame["country"].str.upper()
    bad_country = (country != "") & ~country.str.fullmatch(r"[A-Z]{2}")
    warnings["country not an ISO alpha-2 code, home country used"] = int(bad_country.sum())
    country = country.where((country != "") & ~bad_country, ctx.home_country)
    language = frame["language"].str.lower()
    bad_language = (language != "") & ~language.str.fullmatch(r"[a-z]{2,3}")
    warnings["language not a language code, home language used"] = int(bad_language.sum())
    language = language.where((language != "") & ~bad_language, ctx.home_language)
    rows = pd.DataFrame({"customer_id": frame["customer_id"]})
    for name in (
        "first_name",
        "last_name",
        "email",
        "phone",
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
    ):
        rows[name] = _blank_to_none(frame[name])
    rows["country"], rows["language"], rows["do_not_call"] = country, language, do_not_call
    rows["email_valid"] = _emails_valid(rows["email"])
    invalid = int(rows["email_valid"].map(lambda verdict: verdict is False).sum())
    warnings["e-mail address not valid, no e-mail sent"] = invalid
    return rows, reasons, +warnings


def _emails_valid(emails: pd.Series) -> pd.Series:
    """Each distinct address's syntax read once (email-validator, no DNS): True, False, None."""
    given = emails.dropna()
    verdicts = {address: email_valid(address) for address in given.unique()}
    return emails.map(verdicts, na_action="ignore").astype(object).where(emails.notna(), None)


def _read_phones(rows: pd.DataFrame) -> pd.DataFrame:
    """Each phone read once, here, to E.164 and its time zones (not at every launch)."""
    phones = rows["phone"].astype(object).where(rows["phone"].notna(), None).tolist()
    read = [CustomerPhone.read(raw, country) for raw, country in zip(
        phones, rows["country"].tolist(), strict=True)]  # fmt: skip
    return rows.assign(
        phone_e164=[p.e164 for p in read],
        phone_zone=[p.zone for p in read],
        phone_zones=[p.zones for p in read],
    )


def _check_products(
    frame: pd.DataFrame, ctx: Context
) -> tuple[pd.DataFrame, pd.Series, Counter[str]]:
    return _check_reference(frame, "sku", ("name", "brand", "category"))


def _check_stores(
    frame: pd.DataFrame, ctx: Context
) -> tuple[pd.DataFrame, pd.Series, Counter[str]]:
    return _check_reference(frame, "store_id", ("name", "city", "region"))


def _check_reference(
    frame: pd.DataFrame, key: str, others: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.Series, Counter[str]]:
    reasons = _require(frame, pd.Series("", index=frame.index), (key,))
    rows = pd.DataFrame({key: frame[key], **{name: _blank_to_none(frame[name]) for name in others}})
    return rows, reasons, Counter()


CUSTOMERS = TableSpec(
    "customers",
    ("customer_id",),
    (
        "first_name",
        "last_name",
        "email",
        "phone",
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
        "country",
        "language",
        "do_not_call",
    ),
    ("customer_id",),
    (
        "customer_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
        "country",
        "language",
        "do_not_call",
        "extra",
        "row_hash",
        "phone_e164",
        "phone_zone",
        "phone_zones",
        "email_valid",
    ),
    _check_customers,
    _read_phones,
)
PURCHASES = TableSpec(
    "purchases",
    ("transaction_id", "sku", "purchased_at", "quantity"),
    ("line_no", "customer_id", "lot", "store_id"),
    ("transaction_id", "line_no"),
    (
        "transaction_id",
        "line_no",
        "customer_id",
        "sku",
        "lot",
        "store_id",
        "purchased_on",
        "quantity",
        "extra",
    ),
    _check_purchases,
)
PRODUCTS = TableSpec(
    "products",
    ("sku",),
    ("name", "brand", "category"),
    ("sku",),
    ("sku", "name", "brand", "category", "extra", "row_hash"),
    _check_products,
)
STORES = TableSpec(
    "stores",
    ("store_id",),
    ("name", "city", "region"),
    ("store_id",),
    ("store_id", "name", "city", "region", "extra", "row_hash"),
    _check_stores,
)
TABLES = {spec.name: spec for spec in (CUSTOMERS, PURCHASES, PRODUCTS, STORES)}


def check_batch(spec: TableSpec, raw: pd.DataFrame, ctx: Context) -> Checked:
    """Validate one batch of text rows: typed rows to load, rejects with reasons, warnings."""
    frame = pd.DataFrame(
        {name: (_as_typed(raw[name]) if name in raw else "") for name in spec.known},
        index=raw.index,
    )
    rows, reasons, warnings = spec.check(frame, ctx)
    reasons = _check_lengths(spec, rows, reasons)
    usable = (reasons == "").to_numpy()
    fresh = np.zeros(len(rows), dtype=bool)
    fresh[usable] = ctx.seen.first_time(rows.loc[usable, list(spec.key)])
    key_text = " + ".join(spec.key)
    reasons = _reason(
        reasons,
        usable & ~fresh,
        f"duplicate {key_text}: an earlier row of this file has the same key",
    )
    keep = (reasons == "").to_numpy()
    rows = rows[keep].copy()
    rows["extra"] = _extra(raw[keep], spec)
    if "row_hash" in spec.columns:
        rows["row_hash"] = (
            pd.util.hash_pandas_object(rows, index=False).map("{:016x}".format).to_numpy()
        )
    if spec.derive is not None:
        rows = spec.derive(rows)
    rejects = raw[~keep].copy()
    rejects["reject_reason"] = reasons[~keep].str.rstrip("; ")
    return Checked(rows[list(spec.columns)], rejects, warnings)


@cache
def column_limits(table: str) -> dict[str, int]:
    """The longest text each column of the table holds, in characters, as the schema says."""
    from recall.db.models import Base

    columns = Base.metadata.tables[table].columns
    return {c.name: c.type.length for c in columns if isinstance(c.type, String) and c.type.length}


def _as_typed(column: pd.Series) -> pd.Series:
    """A cell's text without its surrounding blanks, nor the apostrophe our own CSV files put
    before a text a spreadsheet would run (`'=2+3`): a rejects file, corrected and imported
    again, gives back the values it was written from."""
    text = column.str.strip()
    if not pc.any(pc.starts_with(pa.array(text.array, from_pandas=True), "'")).as_py():
        return text
    escaped = text.str.match(_ESCAPED_FORMULA).fillna(False).astype(bool)
    return text.where(~escaped, text.str[1:].str.strip())


def _check_lengths(spec: TableSpec, rows: pd.DataFrame, reasons: pd.Series) -> pd.Series:
    """A text longer than its column is the row's reject, not the whole file's crash (one
    database truncates it, the other refuses the batch). A batch's longest value in bytes,
    which Arrow knows without reading the texts, rules out almost every batch at once."""
    for name, limit in column_limits(spec.name).items():
        if name not in rows or not pd.api.types.is_string_dtype(rows[name]):
            continue
        longest = pc.max(pc.binary_length(pa.array(rows[name].array, from_pandas=True))).as_py()
        if longest is None or longest <= limit:
            continue
        too_long = (rows[name].str.len() > limit).fillna(False).astype(bool)
        reasons = _reason(reasons, too_long, f"{name} is longer than {limit} characters")
    return reasons


def _extra(raw: pd.DataFrame, spec: TableSpec) -> pd.Series | None:
    """Columns the contract does not know, kept aside as JSON rather than dropped."""
    names = [n for n in raw.columns if n not in spec.known]
    if not names or raw.empty:
        return None
    values = raw[names].to_dict("records")
    return pd.Series([json.dumps(v, ensure_ascii=False) for v in values], index=raw.index)
