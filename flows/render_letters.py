"""render_letters_on_dask: every letter batch a Prefect task, run by a Dask cluster.

Used by launch_recall when RECALL_DASK_ADDRESS names a Dask scheduler: a retailer adds
machines (Dask workers with the same settings, the data dir on shared storage) instead of
waiting. Each task reads its batch from the database, writes its PDF and records it, so a
batch lost with its machine is simply rendered again by the next run.
"""

from __future__ import annotations

from prefect import flow, task
from prefect_dask import DaskTaskRunner

from recall.bootstrap import current_app
from recall.campaign import definitions
from recall.notices import letters


@task(name="render-letter-batch", retries=2, retry_delay_seconds=5)
def render_batch(recall_id: str, batch_no: int) -> int:
    """Render one batch; its letter count."""
    app = current_app()
    definition = definitions.get_definition(engine=app.engine, recall_id=recall_id)
    outcome = letters.render_one_batch(
        engine=app.engine, definition=definition,
        config=app.letter_settings(recall_id), templates=app.templates,
        batch_no=batch_no,
    )  # fmt: skip
    return len(outcome.letters)


@flow(name="render_letters_on_dask")
def render_letters_on_dask(recall_id: str) -> int:
    """Render every planned batch not on disk yet across the cluster; the letters rendered."""
    app = current_app()
    todo = letters.batches_to_render(engine=app.engine, recall_id=recall_id)
    futures = [render_batch.submit(recall_id, batch_no) for batch_no in todo]
    rendered = sum(future.result() for future in futures)
    letters.write_manifest(
        engine=app.engine, recall_id=recall_id,
        out_dir=app.letter_settings(recall_id).out_dir,
    )  # fmt: skip
    return rendered


def on_cluster(address: str) -> DaskTaskRunner:
    """A task runner sending tasks to the Dask scheduler at `address` (tcp://host:8786)."""
    return DaskTaskRunner(address=address)
