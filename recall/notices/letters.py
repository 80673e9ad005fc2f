"""Letters of a recall: planned into presorted batches, rendered in parallel, listed in a manifest.

Planning writes every letter's batch and position in one transaction before anything is
drawn, and a batch counts as rendered only once its whole file is on disk. So a crash at any
point leaves planned-but-unrendered batches, and the next run renders exactly those.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.orm import Session

from recall.clock import Clock, utc_now
from recall.db.models import Case, Customer, Letter, LetterBatch
from recall.domain import letters as rules
from recall.domain.definition import RecallDefinition
from recall.notices import letter_fields
from recall.notices.address_review import SetAside, set_aside, write_review_list
from recall.notices.letter_fields import LetterSettings
from recall.notices.render import BatchJob, BatchOutcome, render_batch
from recall.notices.templates import TemplateSet
from recall.notices.workers import die_with
from recall.spreadsheet import write_frame

Progress = Callable[[int, int], None]  # (batches done, batches to do)


@dataclass
class PlanReport:
    planned: int
    batches: int
    languages: Counter[str] = field(default_factory=Counter)
    fallback: Counter[str] = field(default_factory=Counter)  # language asked -> letters
    set_aside: SetAside = field(default_factory=SetAside)  # addresses that can't be printed
    review_list: Path | None = None


@dataclass
class RenderReport:
    batches: int = 0
    letters: int = 0
    pages: int = 0
    seconds: float = 0.0
    manifest: Path | None = None
    worker_peak_mb: float = 0.0


def plan_letters(
    *,
    engine: Engine,
    recall_id: str,
    config: LetterSettings,
    templates: TemplateSet,
    clock: Clock = utc_now,
) -> PlanReport:
    """Give every letter case without a letter its batch and place, in postal presort order;
    a case whose address can't be printed goes to the address-review list instead."""
    available = set(templates.languages("letter"))
    with Session(engine) as session, session.begin():
        found = session.execute(
            select(Case.id, Case.seq, Case.language, *_ADDRESS)
            .join(Customer, Customer.customer_id == Case.customer_id)
            .outerjoin(Letter, Letter.case_id == Case.id)
            .where(Case.recall_id == recall_id, Case.letter.is_(True), Letter.case_id.is_(None))
        ).all()
        rows, aside = set_aside(
            session, found, recall_id=recall_id, home_country=config.home_country,
            sender_language=config.home_language, clock=clock,
        )  # fmt: skip
        rows.sort(key=lambda r: rules.presort_key(r.country, r.postal_code, r.seq))
        last = session.scalar(
            select(func.max(LetterBatch.batch_no)).where(LetterBatch.recall_id == recall_id)
        )
        plan = rules.batch_plan(len(rows), config.batch_size, (last or 0) + 1)
        report = PlanReport(planned=len(rows), batches=len({b for b, _ in plan}), set_aside=aside)
        letters = []
        for row, (batch_no, position) in zip(rows, plan, strict=True):
            language = row.language if row.language in available else config.home_language
            if language != row.language:
                report.fallback[row.language] += 1
            report.languages[language] += 1
            letters.append(
                {
                    "case_id": row.id,
                    "recall_id": recall_id,
                    "batch_no": batch_no,
                    "position": position,
                    "postal_code": row.postal_code,
                    "language": language,
                }
            )
        if letters:
            session.execute(insert(Letter), letters)
            sizes = Counter(batch for batch, _ in plan)
            now = clock()
            session.execute(
                insert(LetterBatch),
                [
                    {
                        "recall_id": recall_id,
                        "batch_no": b,
                        "file": rules.batch_file(b),
                        "letters": n,
                        "planned_at": now,
                    }
                    for b, n in sorted(sizes.items())
                ],
            )
    if aside.cases:
        report.review_list = write_review_list(
            engine=engine, recall_id=recall_id, out_dir=config.out_dir
        )
    return report


_ADDRESS = (
    Customer.first_name, Customer.last_name, Customer.address_line1, Customer.address_line2,
    Customer.postal_code, Customer.city, Customer.country, Customer.do_not_call,
)  # fmt: skip


def render_letters(
    *,
    engine: Engine,
    definition: RecallDefinition,
    config: LetterSettings,
    templates: TemplateSet,
    progress: Progress | None = None,
    clock: Clock = utc_now,
) -> RenderReport:
    """Render the planned batches not yet on disk, in parallel; then write the manifest."""
    started = time.perf_counter()
    config.out_dir.mkdir(parents=True, exist_ok=True)
    todo = batches_to_render(engine=engine, recall_id=definition.id)
    report = RenderReport()
    shared = letter_fields.shared_fields(engine, definition, templates, clock)
    stores = letter_fields.store_names(engine)
    jobs = (
        letter_fields.batch_job(engine, definition, config, templates, shared, stores, b)
        for b in todo
    )
    for outcome in _run(jobs, config.workers):
        _record(engine, definition.id, outcome, clock)
        report.batches += 1
        report.letters += len(outcome.letters)
        report.pages += outcome.pages
        report.worker_peak_mb = max(report.worker_peak_mb, outcome.peak_mb)
        if progress:
            progress(report.batches, len(todo))
    report.manifest = write_manifest(engine=engine, recall_id=definition.id, out_dir=config.out_dir)
    report.seconds = time.perf_counter() - started
    return report


def batches_to_render(*, engine: Engine, recall_id: str) -> list[int]:
    """Planned batches whose file is not on disk yet."""
    with Session(engine) as session:
        return list(
            session.scalars(
                select(LetterBatch.batch_no)
                .where(LetterBatch.recall_id == recall_id, LetterBatch.rendered_at.is_(None))
                .order_by(LetterBatch.batch_no)
            )
        )


def render_one_batch(
    *,
    engine: Engine,
    definition: RecallDefinition,
    config: LetterSettings,
    templates: TemplateSet,
    batch_no: int,
    clock: Clock = utc_now,
) -> BatchOutcome:
    """Render and record one batch, wherever this runs (a Dask worker of a cluster, say): the
    batch reads its letters from the database and writes its file under config.out_dir."""
    config.out_dir.mkdir(parents=True, exist_ok=True)
    shared = letter_fields.shared_fields(engine, definition, templates, clock)
    job = letter_fields.batch_job(
        engine, definition, config, templates, shared, letter_fields.store_names(engine), batch_no
    )
    outcome = render_batch(job)
    _record(engine, definition.id, outcome, clock)
    return outcome


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """The rendering processes: started fresh (spawn), each ending with this process."""
    spawn = get_context("spawn")
    return ProcessPoolExecutor(
        workers, mp_context=spawn, initializer=die_with, initargs=(os.getpid(),)
    )


def _run(jobs: Iterator[BatchJob], workers: int) -> Iterator[BatchOutcome]:
    """Outcomes as workers finish; two batches per worker in flight at most: flat memory."""
    if workers <= 1:
        yield from (render_batch(job) for job in jobs)
        return
    with worker_pool(workers) as pool:
        running: set[Future[BatchOutcome]] = set()
        for job in jobs:
            running.add(pool.submit(render_batch, job))
            if len(running) >= 2 * workers:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
        for future in running:
            yield future.result()


def _record(engine: Engine, recall_id: str, outcome: BatchOutcome, clock: Clock) -> None:
    with Session(engine) as session, session.begin():
        session.execute(
            update(Letter),
            [
                {"case_id": c, "page": p, "pages": n, "template_version": v}
                for c, p, n, v in outcome.letters
            ],
        )
        session.execute(
            update(LetterBatch)
            .where(LetterBatch.recall_id == recall_id, LetterBatch.batch_no == outcome.batch_no)
            .values(rendered_at=clock(), pages=outcome.pages)
        )


def write_manifest(*, engine: Engine, recall_id: str, out_dir: Path) -> Path:
    """manifest.csv: one row per rendered letter, in print order; rewritten whole each time."""
    query = (
        select(
            Case.case_ref,
            Case.customer_id,
            LetterBatch.file.label("batch_file"),
            Letter.page,
            Letter.postal_code,
            Letter.language,
            Letter.template_version,
        )
        .join(Case, Case.id == Letter.case_id)
        .join(
            LetterBatch,
            (LetterBatch.recall_id == Letter.recall_id) & (LetterBatch.batch_no == Letter.batch_no),
        )
        .where(Letter.recall_id == recall_id, LetterBatch.rendered_at.is_not(None))
        .order_by(Letter.batch_no, Letter.position)
    )
    with engine.connect() as connection:
        manifest = pd.read_sql(query, connection)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "manifest.csv"
    partial = path.with_name("manifest.csv.part")
    write_frame(manifest, partial, encoding="utf-8")
    os.replace(partial, path)
    return path
