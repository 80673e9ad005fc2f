"""launch_recall: register a recall, find its buyers, build their cases batch by batch."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from recall.bootstrap import current_app
from recall.services import identify, reading, recalls
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
        found.buyers, found.batches, found.already_returned, found.untraceable_units,
    )  # fmt: skip
    return found


@task(name="build-cases", retries=2, retry_delay_seconds=2)
def build_cases(recall_id: str, batch: int) -> BatchResult:
    engine = current_app().engine
    definition = recalls.get_definition(engine=engine, recall_id=recall_id)
    return build_case_batch(engine=engine, definition=definition, batch=batch)


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
            batch + 1, found.batches, result.created, result.already_there,
        )  # fmt: skip
    # Later steps (letters, call-list assignment) join here as tasks of this flow.
    return summarise(recall_id)
