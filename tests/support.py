"""Small builders for test data: memorable customers and receipts straight into the database."""

from __future__ import annotations

import datetime as dt
import fcntl
import itertools
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from recall.db.engine import make_engine
from recall.db.models import Agent, Base, Customer, Purchase
from recall.domain.definition import RecallDefinition
from recall.domain.definition_parsing import parse_definition

DRILL = "3276000123456"
SANDER = "3276000999999"
_receipts = itertools.count(1)


def customer(customer_id: str, **fields) -> Customer:
    values = {
        "first_name": "Élodie",
        "last_name": "Lefèvre",
        "phone": None,
        "address_line1": "3 rue de l'Église",
        "postal_code": "69001",
        "city": "Lyon",
        "country": "FR",
        "language": "fr",
        "do_not_call": False,
        "row_hash": "x",
    }
    values.update(fields)
    return Customer(customer_id=customer_id, **values)


def line(customer_id: str | None, day: str, quantity: int = 1, **fields) -> Purchase:
    values = {"sku": DRILL, "lot": "L4415", "store_id": "S001"}
    values.update(fields)
    return Purchase(
        transaction_id=f"T{next(_receipts):06d}",
        line_no=1,
        customer_id=customer_id,
        purchased_on=dt.date.fromisoformat(day),
        quantity=quantity,
        **values,
    )


def seed(engine: Engine, *rows) -> None:
    with Session(engine) as session, session.begin():
        session.add_all(rows)


def sample_recall(**changes) -> dict:
    """The sample recall's YAML, as loaded, with `changes`."""
    raw = {
        "id": "R-2026-014",
        "title": "Perceuse X200 - risque de brûlure",
        "hazard": "high",
        "products": [{"sku": DRILL, "lots": ["L4410..L4420", "L4433"]}],
        "sold_from": "2026-01-01",
        "sold_to": "2026-06-30",
        "product_name": "Perceuse-visseuse X200 18 V",
        "risk": {
            "fr": "La batterie peut surchauffer pendant la charge et brûler.",
            "en": "The battery can overheat while charging and burn.",
        },
        "hotline": "0 800 123 456",
    }
    return raw | changes


def definition(**changes) -> RecallDefinition:
    return parse_definition(sample_recall(**changes))


def launch(engine: Engine, clock=None, **changes) -> RecallDefinition:
    """Register a recall (the sample one, with `changes`) and build its cases, no workflow."""
    from recall.campaign.definitions import register_recall
    from recall.identification.buyers import identify_buyers
    from recall.identification.cases import build_case_batch

    raw = sample_recall(**{"hotline": "+33 1 80 00 00 00", **changes})
    recall = parse_definition(raw)
    timing = {"clock": clock} if clock else {}
    register_recall(engine=engine, definition=recall, raw=raw, **timing)
    found = identify_buyers(engine=engine, definition=recall)
    for batch in range(found.batches):
        build_case_batch(engine=engine, definition=recall, batch=batch, **timing)
    return recall


def agent(agent_id: str, languages: str = "fr", **fields) -> Agent:
    values = {
        "name": f"Agent {agent_id}",
        "skills": "",
        "capacity": 1,
        "phone": None,
        "active": True,
        "updated_at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    }
    values.update(fields)
    return Agent(agent_id=agent_id, languages=languages, **values)


def callers(count: int, start: int = 0, **fields) -> list:
    """`count` customers to phone (a mobile, no postal address), each with one drill bought."""
    rows: list = []
    for n in range(start, start + count):
        cid = f"C{n:05d}"
        phone = f"06 {10 + n // 10000:02d} {n // 100 % 100:02d} {n % 100:02d} 00"
        rows.append(customer(cid, phone=phone, address_line1=None, **fields))
        rows.append(line(cid, "2026-03-01"))
    return rows


def empty_database(url: str) -> None:
    """Empty every table of a shared test server's database, numbering included; the keys
    made by the migrations stay, as they do in a real database."""
    engine = make_engine(url)
    with engine.begin() as connection:
        kept = {"app_secrets"}
        names = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name not in kept)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def command_line(monkeypatch, database_url: str, data_dir, now: dt.datetime | str, **env: str):
    """`recall ...` run in-process over this database and data dir, its clock fixed at `now`."""
    from typer.testing import CliRunner

    from recall.cli import cli

    settings = {"RECALL_DATABASE_URL": database_url, "RECALL_DATA_DIR": str(data_dir),
                "RECALL_NOW": now if isinstance(now, str) else now.isoformat(), **env}  # fmt: skip
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def made_once(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """A folder `make` fills once for the whole run, shared by its parallel workers
    (pytest-xdist): the first to ask fills it while the others wait, then all read it."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    folder = root / name
    with (root / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".made").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            (folder / ".made").touch()
    return folder
