"""The synthetic loyalty export: realistic, deterministic, and importable as it is."""

import pandas as pd
import pytest

from recall import demo_data
from recall.campaign.definitions import load_definition
from recall.importing.service import import_export


def read(path, sep, encoding):
    return pd.read_csv(path, sep=sep, encoding=encoding, dtype=str, keep_default_na=False)


@pytest.fixture
def small(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_data, "CHUNK", 700)  # several chunks even for a small set
    return demo_data.generate(out_dir=tmp_path / "demo", customers=2_000, seed=7)


def test_the_same_seed_writes_the_same_files(tmp_path, small):
    again = demo_data.generate(out_dir=tmp_path / "again", customers=2_000, seed=7)
    for name in ("customers", "purchases", "products", "stores"):
        assert getattr(small, name).read_bytes() == getattr(again, name).read_bytes(), name


def test_another_seed_writes_other_purchases(tmp_path, small):
    other = demo_data.generate(out_dir=tmp_path / "other", customers=2_000, seed=8)
    assert other.purchases.read_bytes() != small.purchases.read_bytes()


def test_customers_come_as_a_french_excel_export_with_leading_zeros(small):
    raw = small.customers.read_bytes()
    assert raw.startswith(b"customer_id;first_name;")
    assert "é".encode("cp1252") in raw  # cp1252, not UTF-8
    customers = read(small.customers, ";", "cp1252")
    assert len(customers) == 2_000
    assert customers["customer_id"].is_unique
    assert customers["customer_id"].iloc[0] == "0000000000"
    assert customers["last_name"].str.contains("'").any()
    assert (customers["address_line1"] == "").mean() == pytest.approx(0.30, abs=0.05)
    assert customers["phone"].str.startswith("+33 ").any()
    assert customers["phone"].str.startswith("0033").any()
    assert (customers["phone"] == "").any()
    assert "loyalty_tier" in customers.columns  # an extra column, kept aside on import


def test_purchases_hold_anonymous_receipts_returns_and_the_recalled_drill(small):
    lines = read(small.purchases, ",", "utf-8")
    assert not lines.duplicated(["transaction_id", "line_no"]).any()
    anonymous = lines.drop_duplicates("transaction_id")["customer_id"] == ""
    assert anonymous.mean() == pytest.approx(demo_data.ANONYMOUS_SHARE, abs=0.03)
    drill = lines[lines["sku"] == demo_data.RECALLED_SKU]
    assert len(drill) > 100
    assert (drill["quantity"].astype(int) < 0).any()
    assert lines["purchased_at"].str.match(r"\d{2}/\d{2}/\d{4}$").any()  # French dates too
    assert len(lines) == pytest.approx(20_000, rel=0.1)


def test_a_receipt_has_one_customer_one_store_and_one_date(small):
    lines = read(small.purchases, ",", "utf-8")
    per_receipt = lines.groupby("transaction_id")[
        ["customer_id", "store_id", "purchased_at"]
    ].nunique()
    assert (per_receipt == 1).all().all()


def test_the_sample_recall_is_valid_and_names_the_recalled_drill(small):
    definition, _raw = load_definition(small.recall_yaml)
    assert definition.id == demo_data.RECALL_ID
    assert definition.products[0].sku == demo_data.RECALLED_SKU


def test_the_export_imports_with_nothing_rejected(engine, small):
    files = {
        name: getattr(small, name) for name in ("customers", "purchases", "products", "stores")
    }
    report = import_export(engine=engine, files=files)
    assert report.rows_rejected == 0
    by_table = {t.table: t for t in report.tables}
    assert by_table["customers"].rows_written == 2_000
    assert by_table["customers"].warnings["do_not_call unreadable, taken as yes"] == 0


def test_bad_rows_are_added_on_request_and_rejected_on_import(engine, tmp_path):
    files = demo_data.generate(out_dir=tmp_path, customers=50, bad_rows=True)
    report = import_export(
        engine=engine, files={"customers": files.customers, "purchases": files.purchases}
    )
    rejected = {t.table: t.rows_rejected for t in report.tables}
    assert rejected == {"customers": 2, "purchases": 4}


def test_parquet_output_carries_the_same_rows(tmp_path, small):
    files = demo_data.generate(out_dir=tmp_path / "pq", customers=2_000, seed=7, fmt="parquet")
    parquet = pd.read_parquet(files.purchases)
    csv = read(small.purchases, ",", "utf-8")
    assert parquet["transaction_id"].tolist() == csv["transaction_id"].tolist()
    assert parquet["purchased_at"].tolist() == csv["purchased_at"].tolist()
