"""launch_recall: register a recall, find its buyers, build their cases, split the call list,
then make the letters and public notices: agents can call before the first letter is drawn."""

from __future__ import annotations

import time
from typing import Any

from prefect import flow, get_run_logger, task

from recall.bootstrap import current_app
from recall.calling import assignment
from recall.campaign import definitions
from recall.identification import buyers
from recall.identification.cases import BatchResult, build_case_batch
from recall.notices import letters, posters
from recall.reach import emails, queue
from recall.reporting import overview


@task(name="register-recall")
def register(definition_path: str) -> str:
    app = current_app()
    definition, raw = definitions.load_definition(
        definition_path, templates_dir=app.settings.templates_dir
    )
    created = definitions.register_recall(engine=app.engine, definition=definition, raw=raw)
    get_run_logger().info("recall %s %s", definition.id, "registered" if created else "resumed")
    return definition.id


@task(name="identify-buyers")
def identify_buyers(recall_id: str) -> buyers.Identification:
    app = current_app()
    definition = definitions.get_definition(engine=app.engine, recall_id=recall_id)
    started = time.perf_counter()
    found = buyers.identify_buyers(
        engine=app.engine, definition=definition, batch_size=app.settings.case_batch_size
    )
    get_run_logger().info(
        "%d buyers in %d batch(es); %d already returned; %d untraceable units (%.1f s)",
        found.buyers, found.batches, found.already_returned, found.untraceable_units,
        time.perf_counter() - started,
    )  # fmt: skip
    return found


@task(name="build-cases", retries=2, retry_delay_seconds=2)
def build_cases(recall_id: str, batch: int) -> BatchResult:
    engine = current_app().engine
    definition = definitions.get_definition(engine=engine, recall_id=recall_id)
    return build_case_batch(engine=engine, definition=definition, batch=batch)


@task(name="assign-call-list", retries=2, retry_delay_seconds=2)
def assign_call_list(recall_id: str) -> assignment.AssignmentReport:
    """Every call-list case to one active agent, balanced; re-running assigns only new cases."""
    app = current_app()
    return assignment.assign_call_list(
        engine=app.engine, recall_id=recall_id, home_language=app.settings.home_language
    )


@task(name="plan-letters")
def plan_letters(recall_id: str) -> letters.PlanReport:
    app = current_app()
    return letters.plan_letters(
        engine=app.engine,
        recall_id=recall_id,
        config=app.letter_settings(recall_id),
        templates=app.templates,
    )


@task(name="render-letters")
def render_letters(recall_id: str) -> letters.RenderReport:
    """Every planned batch not yet on disk, rendered in parallel processes."""
    app = current_app()
    definition = definitions.get_definition(engine=app.engine, recall_id=recall_id)
    logger = get_run_logger()
    return letters.render_letters(
        engine=app.engine,
        definition=definition,
        config=app.letter_settings(recall_id),
        templates=app.templates,
        progress=lambda done, total: logger.info("letter batches: %d/%d rendered", done, total),
    )


@task(name="public-notices")
def public_notices(recall_id: str) -> posters.NoticeReport:
    app = current_app()
    definition = definitions.get_definition(engine=app.engine, recall_id=recall_id)
    return posters.make_notices(
        engine=app.engine,
        definition=definition,
        config=app.letter_settings(recall_id),
        templates=app.templates,
    )


@task(name="queue-digital-notices")
def queue_digital_notices(recall_id: str) -> queue.QueuedNotices:
    """Each case's first e-mail or SMS notice, queued; calls held back for `call_after`."""
    app = current_app()
    definition = definitions.get_definition(engine=app.engine, recall_id=recall_id)
    return queue.queue_digital_notices(
        engine=app.engine, definition=definition,
        mail_domain=emails.mail_domain(app.settings.mail_from), clock=app.clock,
    )  # fmt: skip


@task(name="summarise")
def summarise(recall_id: str) -> dict[str, Any]:
    return overview.recall_status(engine=current_app().engine, recall_id=recall_id)


@flow(name="launch_recall", log_prints=False)
def launch_recall(definition_path: str) -> dict[str, Any]:
    """Launch (or resume) the recall defined in `definition_path`; return its status figures."""
    started = time.perf_counter()
    recall_id = register(definition_path)
    found = identify_buyers(recall_id)
    logger = get_run_logger()
    building = time.perf_counter()
    created = sum(r.created for r in build_every_batch(recall_id, found.batches))
    seconds = time.perf_counter() - building
    logger.info(
        "cases: %d created in %.1f s (%.0f/s)",
        created,
        seconds,
        created / seconds if seconds else 0,
    )
    assigned = assign_call_list(recall_id)
    logger.info(
        "call list ready: %d case(s) assigned to %d agent(s) in %.1f s, %.1f s after the launch "
        "started", assigned.assigned, assigned.agents, assigned.seconds,
        time.perf_counter() - started,
    )  # fmt: skip
    for why, count in {**assigned.fallbacks, **assigned.unplaced}.items():
        logger.warning("call list: %d case(s): %s", count, why)
    digital = queue_digital_notices(recall_id)
    logger.info(
        "digital notices queued: %d e-mail(s), %d SMS; %d call(s) held until %s", digital.emails,
        digital.texts, digital.calls_held, digital.hold_until or "-",
    )  # fmt: skip
    planning = time.perf_counter()
    planned = plan_letters(recall_id)
    logger.info(
        "letters planned: %d in %d batch(es) (%.1f s)", planned.planned, planned.batches,
        time.perf_counter() - planning,
    )  # fmt: skip
    if planned.fallback:
        logger.warning(
            "no letter template for %s: those letters use the home language",
            ", ".join(f"{lang} ({n})" for lang, n in planned.fallback.items()),
        )
    aside = planned.set_aside
    if aside.cases:
        logger.warning(
            "addresses: %d case(s) can't be printed as NF Z10-011 asks: %d moved to the call "
            "list, %d to the public notice; the list: %s", aside.cases, aside.to_call,
            aside.to_notice, planned.review_list,
        )  # fmt: skip
    if aside.to_call:
        again = assign_call_list(recall_id)
        logger.info("call list: %d more case(s) assigned", again.assigned)
    address = current_app().settings.dask_address
    if address:  # batches fanned out to a Dask cluster
        from flows.render_letters import on_cluster, render_letters_on_dask

        runner = on_cluster(address)
        count = render_letters_on_dask.with_options(task_runner=runner)(recall_id)  # type: ignore[arg-type]
        logger.info("letters: %d planned now, %d rendered on %s", planned.planned, count, address)
    else:
        rendered = render_letters(recall_id)
        logger.info(
            "letters: %d planned now, %d rendered in %d batch(es) (%.1f s)",
            planned.planned,
            rendered.letters,
            rendered.batches,
            rendered.seconds,
        )
    made = public_notices(recall_id)
    logger.info(
        "%d in-store poster(s), public notice in %d language(s); letters and notices done %.1f s "
        "after the launch started", len(made.posters), len(made.public_languages),
        time.perf_counter() - started,
    )  # fmt: skip
    return summarise(recall_id)


def build_every_batch(recall_id: str, batches: int) -> list[BatchResult]:
    """Every staged batch built, as many at once as the database takes writers."""
    at_once = current_app().case_builders
    logger = get_run_logger()
    results: list[BatchResult] = []
    for first in range(0, batches, at_once):
        wave = range(first, min(first + at_once, batches))
        if at_once == 1:
            done = [build_cases(recall_id, batch) for batch in wave]
        else:
            done = [f.result() for f in [build_cases.submit(recall_id, batch) for batch in wave]]
        for result in done:
            logger.info(
                "cases batch %d/%d: %d created, %d already there",
                result.batch + 1, batches, result.created, result.already_there,
            )  # fmt: skip
        results += done
    return results
