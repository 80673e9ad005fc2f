"""launch_recall: register a recall, find its buyers, build their cases, split the call list,
make the letters and public notices."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from recall.bootstrap import current_app, letter_config, letter_templates
from recall.services import assignment, identify, letters, notices, reading, recalls
from recall.services.cases import BatchResult, build_case_batch


@task(name="register-recall")
def register(definition_path: str) -> str:
    definition, raw = recalls.load_definition(definition_path)
    created = recalls.register_recall(engine=current_app().engine, definition=definition, raw=raw)
    get_run_logger().info("recall %s %s", definition.id, "registered" if created else "resumed")
    return definition.id


@task(name="identify-buyers")
def identify_buyers(recall_id: str) -> identify.Identification:
    engine = current_app().engine
    definition = recalls.get_definition(engine=engine, recall_id=recall_id)
    found = identify.identify_buyers(engine=engine, definition=definition)
    get_run_logger().info(
        "%d buyers in %d batch(es); %d already returned; %d untraceable units",
        found.buyers,
        found.batches,
        found.already_returned,
        found.untraceable_units,
    )
    return found


@task(name="build-cases", retries=2, retry_delay_seconds=2)
def build_cases(recall_id: str, batch: int) -> BatchResult:
    engine = current_app().engine
    definition = recalls.get_definition(engine=engine, recall_id=recall_id)
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
        config=letter_config(app.settings, recall_id),
        templates=letter_templates(app.settings),
    )


@task(name="render-letters")
def render_letters(recall_id: str) -> letters.RenderReport:
    """Every planned batch not yet on disk, rendered in parallel processes."""
    app = current_app()
    definition = recalls.get_definition(engine=app.engine, recall_id=recall_id)
    logger = get_run_logger()
    return letters.render_letters(
        engine=app.engine,
        definition=definition,
        config=letter_config(app.settings, recall_id),
        templates=letter_templates(app.settings),
        progress=lambda done, total: logger.info("letter batches: %d/%d rendered", done, total),
    )


@task(name="public-notices")
def public_notices(recall_id: str) -> notices.NoticeReport:
    app = current_app()
    definition = recalls.get_definition(engine=app.engine, recall_id=recall_id)
    return notices.make_notices(
        engine=app.engine,
        definition=definition,
        config=letter_config(app.settings, recall_id),
        templates=letter_templates(app.settings),
    )


@task(name="summarise")
def summarise(recall_id: str) -> dict[str, Any]:
    return reading.recall_status(engine=current_app().engine, recall_id=recall_id)


@flow(name="launch_recall", log_prints=False)
def launch_recall(definition_path: str) -> dict[str, Any]:
    """Launch (or resume) the recall defined in `definition_path`; return its status figures."""
    recall_id = register(definition_path)
    found = identify_buyers(recall_id)
    logger = get_run_logger()
    for batch in range(found.batches):
        result = build_cases(recall_id, batch)
        logger.info(
            "cases batch %d/%d: %d created, %d already there",
            batch + 1,
            found.batches,
            result.created,
            result.already_there,
        )
    assigned = assign_call_list(recall_id)
    logger.info(
        "call list: %d case(s) assigned to %d agent(s) in %.1f s",
        assigned.assigned,
        assigned.agents,
        assigned.seconds,
    )
    for why, count in {**assigned.fallbacks, **assigned.unplaced}.items():
        logger.warning("call list: %d case(s): %s", count, why)
    planned = plan_letters(recall_id)
    if planned.fallback:
        logger.warning(
            "no letter template for %s: those letters use the home language",
            ", ".join(f"{lang} ({n})" for lang, n in planned.fallback.items()),
        )
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
        "%d in-store poster(s), press notice in %d language(s)", len(made.posters), len(made.press)
    )
    return summarise(recall_id)
