"""Letter rendering at scale, against a bare ReportLab canvas drawing the same text.

    python -m benchmarks.letters [--letters 350000]

Cases are written straight into a fresh SQLite database (the import is measured elsewhere),
then planned and rendered by the same code the launch flow runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import time
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import insert

from benchmarks.run import write_section
from recall.clock import utc_now
from recall.db.engine import make_engine, upgrade
from recall.db.models import Case, Customer, Recall
from recall.domain.definition_parsing import parse_definition
from recall.notices import letter_fields, letters
from recall.notices import text as markup
from recall.notices.letter_pdf import BOLD, FONT, LEFT, WIDTH, measure, register_fonts
from recall.notices.render import render_batch
from recall.notices.templates import TemplateSet
from recall.settings import PROJECT_TEMPLATES

ROOT = Path(__file__).resolve().parents[1]
RAW = {
    "id": "R-BENCH", "title": "Perceuse X200 - risque de brûlure", "hazard": "high",
    "products": [{"sku": "3276000123456", "lots": ["L4410..L4420"]}],
    "sold_from": "2026-01-01", "sold_to": "2026-06-30", "product_name": "Perceuse X200 18 V",
    "risk": "La batterie peut surchauffer pendant la charge et provoquer des brûlures.",
}  # fmt: skip


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(engine, count: int) -> None:
    """`count` letter cases with French names and addresses, written in bulk."""
    now = utc_now()
    first = ["Élodie", "Loïc", "Gaëtan", "Anaïs", "François", "Zoé"]
    last = ["Lefèvre", "D'Angelo", "Le Goff", "Müller", "Bézier", "N'Diaye"]
    with engine.begin() as connection:
        connection.execute(insert(Recall).values(
            id=RAW["id"], title=RAW["title"], hazard="high", definition=json.dumps(RAW),
            launched_at=now, already_returned=0, untraceable_units=0, unknown_customer_units=0,
        ))  # fmt: skip
        for start in range(0, count, 50_000):
            numbers = range(start, min(start + 50_000, count))
            connection.execute(insert(Customer), [{
                "customer_id": f"{n:010d}", "first_name": first[n % 6], "last_name": last[n % 5],
                "address_line1": f"{n % 200 + 1} rue de l'Église",
                "postal_code": f"{1000 + n % 94000:05d}",
                "city": "Saint-Étienne", "country": "FR", "language": "en" if n % 20 == 0 else "fr",
                "do_not_call": False, "row_hash": "x",
            } for n in numbers])  # fmt: skip
            connection.execute(insert(Case), [{
                "recall_id": RAW["id"], "customer_id": f"{n:010d}", "seq": n + 1,
                "case_ref": f"R-BENCH-{n + 1:06d}", "status": "identified", "quantity": 1 + n % 2,
                "lots": "L4415", "skus": "3276000123456", "stores": "S001",
                "first_purchase": dt.date(2026, 3, 14), "last_purchase": dt.date(2026, 3, 14),
                "letter": True, "call": False, "notice_only": False,
                "language": "en" if n % 20 == 0 else "fr",
                "created_at": now, "updated_at": now,
            } for n in numbers])  # fmt: skip


def bare_canvas(lines: list[list[tuple[str, bool]]], pages: int, path: Path) -> float:
    """Pages per second of a canvas drawing the letter's text lines, and nothing else."""
    started = time.perf_counter()
    canvas = Canvas(str(path), pagesize=A4, invariant=1, pageCompression=1)
    for _ in range(pages):
        text = canvas.beginText()
        y = A4[1] - 60
        for line in lines:
            text.setTextOrigin(LEFT, y)
            for words, bold in line:
                text.setFont(BOLD if bold else FONT, 9.6)
                text.textOut(words)
            y -= 12.6
        canvas.drawText(text)
        canvas.showPage()
    canvas.save()
    return pages / (time.perf_counter() - started)


def letter_lines(job: letters.BatchJob, templates: TemplateSet) -> list[list[tuple[str, bool]]]:
    """The text of the first letter of a batch, laid out in lines as the letter has it."""
    _case_id, page = job.letters[0]
    template = templates.get("letter", page.language)
    context = {**page.context, **job.shared[template.language]}
    lines: list[list[tuple[str, bool]]] = [[(a, False)] for a in page.address]
    lines += [[(context["letter_line"], False)], [(context["reference_line"], True)]]
    for name in template.sections:
        for block in markup.parse(template.render(name, context)):
            lines += markup.wrap(block.runs, WIDTH, 9.6, measure) if block.runs else []
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=350_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    work = ROOT / "var" / "bench-letters"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    engine = make_engine(f"sqlite:///{work / 'letters.db'}")
    upgrade(engine)
    seed(engine, args.letters)
    definition = parse_definition(RAW)
    templates = TemplateSet(PROJECT_TEMPLATES / "letters")
    config = letters.LetterSettings(
        out_dir=work / "letters", templates_dir=PROJECT_TEMPLATES / "letters",
        fonts_dir=PROJECT_TEMPLATES / "fonts", workers=args.workers,
    )  # fmt: skip
    register_fonts(str(config.fonts_dir))
    started = time.perf_counter()
    letters.plan_letters(engine=engine, recall_id=RAW["id"], config=config, templates=templates)
    planned_in = time.perf_counter() - started

    # One process, one batch: ours against the bare canvas with the same text.
    shared = letter_fields.shared_fields(engine, definition, templates, utc_now)
    job = letter_fields.batch_job(
        engine, definition, config, templates, shared, letter_fields.store_names(engine), 1
    )
    lines = letter_lines(job, templates)
    job.path = work / "single.pdf"
    single_started = time.perf_counter()
    render_batch(job)
    ours = len(job.letters) / (time.perf_counter() - single_started)
    bare = bare_canvas(lines, len(job.letters), work / "bare.pdf")

    report = letters.render_letters(
        engine=engine, definition=definition, config=config, templates=templates
    )
    rate = report.letters / report.seconds
    size_mb = sum(p.stat().st_size for p in config.out_dir.glob("*.pdf")) / 2**20
    rows = [
        ("letters planned (presort, batches of 1,000)", args.letters, planned_in),
        (f"letters rendered, {args.workers} processes", report.letters, report.seconds),
    ]
    table = [
        "## Letters", "",
        f"Command: `python -m benchmarks.letters --letters {args.letters} "
        f"--workers {args.workers}` "
        "(part of `make bench`). One A4 page per letter with QR code, TTF fonts embedded.", "",
        "| step | letters | seconds | letters/s |", "|---|---:|---:|---:|",
        *[f"| {name} | {n:,} | {s:.1f} | {n / s:,.0f} |" for name, n, s in rows], "",
        f"- One process, one batch of {len(job.letters):,}: recall letters **{ours:,.0f}/s**, "
        f"bare ReportLab canvas drawing the same {len(lines)} lines of text **{bare:,.0f}/s**: "
        f"ratio **{ours / bare:.0%}**.",
        f"- {args.letters:,} letters in **{report.seconds:.0f} s** ({rate:,.0f}/s), "
        f"{report.pages:,} pages, {size_mb:,.0f} MB of PDF.",
        f"- Peak memory of a rendering process: **{report.worker_peak_mb:,.0f} MB** (flat: a "
        f"worker holds at most one batch); main process **{peak_mb():,.0f} MB** (it also wrote "
        "the benchmark's cases and ran the one-process comparison).",
    ]  # fmt: skip
    print("\n".join(table))
    write_section("Letters", "\n".join(table))


if __name__ == "__main__":
    main()
