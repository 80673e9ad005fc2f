"""Synthetic French loyalty export: customers, purchases, products, stores and a sample recall.

Deterministic for a seed and streamed in chunks of customers, so 2 million customers and
20 million purchase lines are written with flat memory. The data looks like what a DIY
retailer's loyalty system exports: a cp1252 `;` customers file from Excel, a UTF-8 `,`
purchases file, accents, apostrophes, phones in every human format, missing addresses,
anonymous purchases and return lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers

RECALLED_SKU = "3276000123456"
RECALL_ID = "R-2026-014"
CHUNK = 100_000
STORES = 120
PRODUCTS = 2_000
RECALLED_SHARE = 0.02  # share of purchase lines that are the recalled drill
RETURN_SHARE = 0.06  # share of recalled lines later brought back
ANONYMOUS_SHARE = 0.08  # receipts without a loyalty card

FIRST_NAMES = [
    "Élodie",
    "Léa",
    "Chloé",
    "Maëlle",
    "Zoé",
    "Anaïs",
    "Inès",
    "Noémie",
    "Céline",
    "Hélène",
    "Agnès",
    "Françoise",
    "Bénédicte",
    "Jérôme",
    "Loïc",
    "Gaëtan",
    "Benoît",
    "François",
    "Clément",
    "Théo",
    "Raphaël",
    "Noël",
    "Joël",
    "Hervé",
    "Stéphane",
    "Marie",
    "Jean",
    "Pierre",
    "Camille",
    "Lucas",
    "Hugo",
    "Louise",
    "Emma",
    "Jules",
    "Manon",
    "Nathalie",
    "Sébastien",
]
LAST_NAMES = [
    "Lefèvre",
    "Dupré",
    "Gérard",
    "Lemaître",
    "Bézier",
    "Besançon",
    "Faure",
    "Mercier",
    "Rousseau",
    "Boucher",
    "Fournier",
    "D'Angelo",
    "N'Diaye",
    "O'Neill",
    "Le Goff",
    "Le Bihan",
    "De La Fontaine",
    "Saint-Exupéry",
    "Martin-Lefèbvre",
    "Giraud",
    "Chevalier",
    "Benoît",
    "Müller",
    "Moreau",
    "Lambert",
    "Bonnet",
    "Dubois",
    "Laurent",
    "Simon",
    "Michel",
    "Ménard",
]
CITIES = (
    ("Lyon", "69003"), ("Besançon", "25000"), ("Orléans", "45000"), ("Évry", "91000"),
    ("Saint-Étienne", "42000"), ("Nîmes", "30000"), ("Bourg-en-Bresse", "01000"),
    ("Gap", "05000"), ("Ajaccio", "20000"), ("Paris", "75011"), ("Villeneuve-d'Ascq", "59650"),
    ("L'Haÿ-les-Roses", "94240"), ("Châlons-en-Champagne", "51000"), ("Angoulême", "16000"),
    ("Clermont-Ferrand", "63000"), ("Mâcon", "71000"), ("Pont-à-Mousson", "54700"),
    ("Sète", "34200"), ("Fréjus", "83600"), ("Rennes", "35000"),
)  # fmt: skip
STREETS = (
    "rue de l'Église", "avenue Jean-Jaurès", "boulevard Émile-Zola", "place du Marché",
    "chemin des Écoliers", "rue du Général-de-Gaulle", "allée des Tilleuls", "impasse Sainte-Anne",
    "route de Crémieu", "quai de la Saône", "rue Pasteur", "rue des Forgerons",
)  # fmt: skip
REGIONS = ("Auvergne-Rhône-Alpes", "Île-de-France", "Occitanie", "Hauts-de-France", "Bretagne")
CATEGORIES = ("Outillage électroportatif", "Jardin", "Quincaillerie", "Peinture", "Sanitaire")
BRANDS = ("Dexter", "Bosch", "Makita", "Stanley", "Einhell", "Ryobi")
# Lots of the recalled drill as written on receipts: most inside the recall's ranges, some
# outside, some with stray case and spaces, some unknown (matched by safety).
RECALLED_LOTS = np.array(
    ["L4410", "L4412", "L4415", "l4415", " L4418 ", "L4420", "L4433", "L4405", "L4421", "L4434",
     "X4415", "L44150", ""],
)  # fmt: skip
RECALLED_LOT_WEIGHTS = np.array([10, 10, 12, 2, 2, 8, 8, 6, 6, 5, 2, 2, 3], dtype=float)
FIRST_DAY = np.datetime64("2025-09-01")
DAYS = 420  # purchases up to late October 2026

CUSTOMER_COLUMNS = [
    "customer_id", "first_name", "last_name", "email", "phone", "address_line1",
    "address_line2", "postal_code", "city", "country", "language", "do_not_call", "loyalty_tier",
]  # fmt: skip
PURCHASE_COLUMNS = [
    "transaction_id", "line_no", "customer_id", "sku", "lot", "store_id", "purchased_at",
    "quantity",
]  # fmt: skip

RECALL_YAML = f"""\
id: {RECALL_ID}
title: "Perceuse X200 - risque de brûlure"
hazard: high
products:
  - sku: "{RECALLED_SKU}"
    lots: ["L4410..L4420", "L4433"]
sold_from: 2026-01-01
sold_to: 2026-06-30
stores: []
product_name: "Perceuse-visseuse X200 18 V"
risk:
  fr: "La batterie peut surchauffer pendant la charge et provoquer brûlures ou départ de feu."
  en: "The battery can overheat while charging and cause burns or a fire."
hotline: "0 800 123 456"
category: "Maison-Habitat"
brand: "Brico Maison"
model: "X200 18 V"
lot_location:
  fr: "sous la batterie, après la mention LOT"
  en: "under the battery, after the word LOT"
ends_on: 2027-06-30
remedies: [refund, replacement, repair]
notify: [email, sms, letter]
call_after: 24h
call_policy: without_letter
call:
  max_attempts: 5
  retry_after: 4h
  calling_hours: {{mon-fri: "09:00-20:00", sat: "10:00-18:00"}}
  timezone: Europe/Paris
"""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DemoFiles:
    customers: Path
    purchases: Path
    products: Path
    stores: Path
    recall_yaml: Path


def generate(
    *,
    out_dir: Path,
    customers: int,
    seed: int = 2026,
    lines_per_customer: float = 10.0,
    fmt: str = "csv",
    bad_rows: bool = False,
    progress: Progress | None = None,
) -> DemoFiles:
    """Write the four loyalty tables and a sample recall YAML to out_dir; same seed, same files."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    ext = "csv" if fmt == "csv" else "parquet"
    files = DemoFiles(
        customers=out_dir / f"customers.{ext}",
        purchases=out_dir / f"purchases.{ext}",
        products=out_dir / f"products.{ext}",
        stores=out_dir / f"stores.{ext}",
        recall_yaml=out_dir / "recall.yaml",
    )
    rng = np.random.default_rng([seed, 0])
    _write(products_table(rng), files.products, fmt, sep=",", encoding="utf-8")
    _write(stores_table(rng), files.stores, fmt, sep=";", encoding="cp1252")
    files.recall_yaml.write_text(RECALL_YAML, encoding="utf-8")
    customer_sink = _Sink(files.customers, fmt, sep=";", encoding="cp1252")
    purchase_sink = _Sink(files.purchases, fmt, sep=",", encoding="utf-8")
    receipt_base = 0
    for index, start in enumerate(range(0, customers, CHUNK)):
        chunk_rng = np.random.default_rng([seed, index + 1])
        ids = np.arange(start, min(start + CHUNK, customers))
        customer_sink.add(customers_table(chunk_rng, ids))
        lines = purchases_table(chunk_rng, ids, lines_per_customer, receipt_base)
        receipt_base += CHUNK * int(lines_per_customer * 2 + 10)  # receipts never overlap chunks
        purchase_sink.add(lines)
        if progress:
            progress(int(ids[-1]) + 1, customers)
    if bad_rows:
        customer_sink.add(_bad_customers())
        purchase_sink.add(_bad_purchases())
    customer_sink.close()
    purchase_sink.close()
    return files


def customers_table(rng: np.random.Generator, ids: np.ndarray) -> pd.DataFrame:
    """Customers with the ids given: names, contacts and gaps in the proportions seen in exports."""
    n = len(ids)
    first = np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), n)]
    city_pick = rng.integers(0, len(CITIES), n)
    cities = np.array([c for c, _ in CITIES])[city_pick]
    postal = np.array([p for _, p in CITIES])[city_pick]
    street = np.array(STREETS)[rng.integers(0, len(STREETS), n)]
    number = rng.integers(1, 200, n).astype(str)
    line1 = pd.Series(number, dtype=object) + " " + pd.Series(street, dtype=object)
    # About 60% of cards carry a full address; the rest miss line 1, the postal code or the city.
    gap = rng.random(n)
    line1 = line1.where(gap >= 0.30, "")
    postal = np.where((gap >= 0.36) | (gap < 0.30), postal, "")
    cities = np.where((gap >= 0.40) | (gap < 0.36), cities, "")
    line2 = np.where(rng.random(n) < 0.15, "Bâtiment B, 2e étage", "")
    belgian = rng.random(n) < 0.03
    country = np.where(belgian, "BE", np.where(rng.random(n) < 0.5, "FR", ""))
    language = np.where(rng.random(n) < 0.06, "en", np.where(rng.random(n) < 0.5, "fr", ""))
    email = np.where(
        rng.random(n) < 0.55,
        _ascii(pd.Series(first).str.lower())
        + "." + pd.Series(ids).astype(str) + "@exemple.fr",
        "",
    )  # fmt: skip
    dnc = np.array(["", "", "", "", "0", "non", "false", "1", "oui", "yes"])
    dnc_pick = np.where(rng.random(n) < 0.04, rng.integers(7, 10, n), rng.integers(0, 7, n))
    return pd.DataFrame({
        "customer_id": pd.Series(ids).map("{:010d}".format),  # leading zeros must survive
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": _phones(rng, n, belgian),
        "address_line1": line1,
        "address_line2": line2,
        "postal_code": postal,
        "city": cities,
        "country": country,
        "language": language,
        "do_not_call": dnc[dnc_pick],
        "loyalty_tier": np.array(["bronze", "argent", "or"])[rng.integers(0, 3, n)],
    })  # fmt: skip


def _ascii(names: pd.Series) -> pd.Series:
    return names.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")


def _phones(rng: np.random.Generator, n: int, belgian: np.ndarray) -> np.ndarray:
    digits = rng.integers(0, 100_000_000, n)
    s = pd.Series(digits).map("{:08d}".format)
    mobile = np.where(rng.random(n) < 0.8, "6", "7")
    p = [s.str[i : i + 2] for i in range(0, 8, 2)]
    national = "0" + mobile + " " + p[0] + " " + p[1] + " " + p[2] + " " + p[3]
    international = "+33 " + mobile + " " + p[0] + " " + p[1] + " " + p[2] + " " + p[3]
    compact = "0033" + mobile + s
    dotted = "0" + mobile + "." + p[0] + "." + p[1] + "." + p[2] + "." + p[3]
    be = "+32 470 " + p[0] + " " + p[1] + " " + p[2]
    form = rng.random(n)
    phone = np.select(
        [form < 0.45, form < 0.65, form < 0.72, form < 0.80, form < 0.82],
        [national, international, compact, dotted, "12 34"],  # "12 34": a typo, invalid
        default="",  # about 18% of cards have no phone
    )
    return np.where(belgian & (form < 0.80), be, phone)


def purchases_table(
    rng: np.random.Generator, ids: np.ndarray, lines_per_customer: float, receipt_base: int
) -> pd.DataFrame:
    """Receipts of one to four lines for these customers, with anonymous receipts and returns."""
    n_lines = round(len(ids) * lines_per_customer)
    sizes = rng.integers(1, 5, n_lines // 2 + 1)
    receipt_of_line = np.repeat(np.arange(len(sizes)), sizes)[:n_lines]
    n_receipts = int(receipt_of_line[-1]) + 1 if n_lines else 0
    first_line = np.r_[0, np.flatnonzero(np.diff(receipt_of_line)) + 1]
    line_no = np.arange(n_lines) - np.repeat(first_line, np.diff(np.r_[first_line, n_lines]))
    buyer = rng.choice(ids, n_receipts).astype(object)
    buyer_id = np.where(rng.random(n_receipts) < ANONYMOUS_SHARE, "", _ids(buyer))
    day = FIRST_DAY + rng.integers(0, DAYS, n_receipts).astype("timedelta64[D]")
    store = pd.Series(rng.integers(1, STORES + 1, n_receipts)).map("S{:03d}".format).to_numpy()
    recalled = rng.random(n_lines) < RECALLED_SHARE
    sku = np.where(recalled, RECALLED_SKU, _skus(rng.integers(1, PRODUCTS, n_lines)))
    lot_pick = rng.choice(
        len(RECALLED_LOTS), n_lines, p=RECALLED_LOT_WEIGHTS / RECALLED_LOT_WEIGHTS.sum()
    )
    other_lot = np.where(
        rng.random(n_lines) < 0.5, "", "B" + rng.integers(100, 999, n_lines).astype(str)
    )
    quantity = np.where(rng.random(n_lines) < 0.9, 1, rng.integers(2, 4, n_lines))
    lines = pd.DataFrame({
        "transaction_id": _receipt_ids(receipt_base + receipt_of_line),
        "line_no": line_no + 1,
        "customer_id": buyer_id[receipt_of_line],
        "sku": sku,
        "lot": np.where(recalled, RECALLED_LOTS[lot_pick], other_lot),
        "store_id": store[receipt_of_line],
        "purchased_at": _dates(rng, day)[receipt_of_line],
        "quantity": quantity,
    })  # fmt: skip
    return pd.concat(
        [lines, _returns(rng, lines, recalled, day[receipt_of_line], receipt_base + n_receipts)]
    )


def _returns(
    rng: np.random.Generator, lines: pd.DataFrame, recalled: np.ndarray, day: np.ndarray, base: int
) -> pd.DataFrame:
    """Some recalled units come back: a new one-line receipt with a negative quantity."""
    back = np.flatnonzero(recalled & (rng.random(len(lines)) < RETURN_SHARE))
    returned = lines.iloc[back].copy()
    returned["transaction_id"] = _receipt_ids(base + np.arange(len(back)), prefix="R")
    returned["line_no"] = 1
    returned["quantity"] = -returned["quantity"]
    later = day[back] + rng.integers(1, 30, len(back)).astype("timedelta64[D]")
    returned["purchased_at"] = np.datetime_as_string(later)
    return returned


def _dates(rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
    iso = pd.Series(np.datetime_as_string(day))
    french = iso.str[8:10] + "/" + iso.str[5:7] + "/" + iso.str[0:4]
    with_time = iso + "T" + pd.Series(rng.integers(8, 20, len(day))).map("{:02d}:15:00".format)
    form = rng.random(len(day))
    return np.select([form < 0.75, form < 0.90], [iso, french], default=with_time)


def _ids(values: np.ndarray) -> np.ndarray:
    return pd.Series(values).map("{:010d}".format).to_numpy()


def _skus(numbers: np.ndarray) -> np.ndarray:
    return pd.Series(numbers).map("3276000{:06d}".format).to_numpy()


def _receipt_ids(numbers: np.ndarray, prefix: str = "T") -> np.ndarray:
    return pd.Series(numbers).map((prefix + "{:09d}").format).to_numpy()


def products_table(rng: np.random.Generator) -> pd.DataFrame:
    """The catalogue, with the recalled drill as its first product."""
    skus = _skus(np.arange(1, PRODUCTS))
    names = (
        pd.Series(np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), len(skus))])
        + " réf. "
        + skus
    )
    products = pd.DataFrame({
        "sku": skus,
        "name": names,
        "brand": np.array(BRANDS)[rng.integers(0, len(BRANDS), len(skus))],
        "category": np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), len(skus))],
    })  # fmt: skip
    drill = {
        "sku": RECALLED_SKU,
        "name": "Perceuse X200 18 V",
        "brand": "Dexter",
        "category": CATEGORIES[0],
    }
    return pd.concat([pd.DataFrame([drill]), products], ignore_index=True)


def stores_table(rng: np.random.Generator) -> pd.DataFrame:
    """Stores S001..S120, each in one of the demo cities."""
    pick = rng.integers(0, len(CITIES), STORES)
    cities = np.array([c for c, _ in CITIES])[pick]
    return pd.DataFrame({
        "store_id": [f"S{i:03d}" for i in range(1, STORES + 1)],
        "name": pd.Series(cities, dtype=object).map("Brico {}".format),
        "city": cities,
        "region": np.array(REGIONS)[rng.integers(0, len(REGIONS), STORES)],
    })  # fmt: skip


def _bad_customers() -> pd.DataFrame:
    rows = [
        {"customer_id": "", "first_name": "Sans", "last_name": "Carte"},
        {"customer_id": "0000000000", "first_name": "Doublon", "last_name": "Deuxième"},
    ]
    return pd.DataFrame(rows, columns=CUSTOMER_COLUMNS, dtype=object).fillna("")


def _bad_purchases() -> pd.DataFrame:
    base = {
        "line_no": 1,
        "customer_id": "0000000001",
        "sku": RECALLED_SKU,
        "lot": "L4415",
        "store_id": "S001",
    }
    rows = [
        {**base, "transaction_id": "BAD000001", "purchased_at": "31/02/2026", "quantity": "1"},
        {**base, "transaction_id": "BAD000002", "purchased_at": "2026-03-01", "quantity": "deux"},
        {**base, "transaction_id": "", "purchased_at": "2026-03-01", "quantity": "1"},
        {
            **base,
            "transaction_id": "BAD000004",
            "sku": "",
            "purchased_at": "2026-03-01",
            "quantity": "1",
        },
    ]
    return pd.DataFrame(rows, columns=PURCHASE_COLUMNS)


class _Sink:
    """Appends chunks to one CSV or Parquet file."""

    def __init__(self, path: Path, fmt: str, *, sep: str, encoding: str) -> None:
        self.path, self.fmt, self.sep, self.encoding = path, fmt, sep, encoding
        self.writer = None
        path.unlink(missing_ok=True)

    def add(self, frame: pd.DataFrame) -> None:
        if self.fmt == "csv":
            header = not self.path.exists()
            frame.to_csv(
                self.path,
                sep=self.sep,
                encoding=self.encoding,
                index=False,
                header=header,
                mode="a",
            )
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame.astype(str), preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table)  # type: ignore[attr-defined]

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _write(frame: pd.DataFrame, path: Path, fmt: str, *, sep: str, encoding: str) -> None:
    sink = _Sink(path, fmt, sep=sep, encoding=encoding)
    sink.add(frame)
    sink.close()


def write_agents(out_dir: Path, count: int = 12, seed: int = 2026) -> Path:
    """Write agents.csv, a call centre's roster as a French Excel export; same seed, same file.

    Everyone speaks French, about one in five English too; the first agent is the specialist
    who takes health concerns and escalations. Everyone is active with a French mobile.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 1_000_000])  # a stream of its own, apart from generate()
    pairs = len(FIRST_NAMES) * len(LAST_NAMES)
    pick = rng.choice(pairs, count, replace=count > pairs)
    names = [f"{FIRST_NAMES[i // len(LAST_NAMES)]} {LAST_NAMES[i % len(LAST_NAMES)]}" for i in pick]
    phones: list[str] = []
    while len(phones) < count:  # the customers' formats, without their gaps, typos and 07 0x
        drawn = _phones(rng, count, np.zeros(count, dtype=bool))
        phones += [
            p
            for p in drawn
            if len(p) > 5
            and phonenumbers.number_type(phonenumbers.parse(p, "FR"))
            == phonenumbers.PhoneNumberType.MOBILE
        ]
    index = np.arange(count)
    agents = pd.DataFrame({
        "agent_id": [f"AG{i + 1:03d}" for i in index],
        "name": names,
        "languages": np.where(index % 5 == 2, "fr,en", "fr"),
        "skills": np.where(index == 0, "health,escalation", ""),
        "capacity": rng.integers(1, 4, count),
        "phone": phones[:count],
        "active": "oui",
    })  # fmt: skip
    path = out_dir / "agents.csv"
    _write(agents, path, "csv", sep=";", encoding="cp1252")
    return path
