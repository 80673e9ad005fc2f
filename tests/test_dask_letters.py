"""Letter batches fanned out to a Dask cluster (a LocalCluster of two worker processes)."""

import os

import pyarrow
import pytest
from prefect_dask import DaskTaskRunner
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flows.render_letters import render_letters_on_dask
from recall.bootstrap import current_app
from recall.db.models import Letter, LetterBatch
from recall.notices import letters
from tests.support import customer, line, seed
from tests.test_letters import launch

pytestmark = pytest.mark.flow


@pytest.fixture
def environ_restored():
    """Dask's nanny sets OMP_NUM_THREADS=1 and the like in our environment before it starts a
    worker. pyarrow sizes its thread pool once, by that variable when set: sized first, as in
    every other test, and the environment put back after for the tests that follow."""
    pyarrow.cpu_count()
    before = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(before)


def test_every_batch_is_rendered_once_by_the_cluster(
    database_url, tmp_path, monkeypatch, flow_engine_url, environ_restored
):
    monkeypatch.setenv("RECALL_DATABASE_URL", database_url)  # the workers inherit it
    monkeypatch.setenv("RECALL_DATA_DIR", str(tmp_path / "var"))
    app = current_app()
    seed(app.engine, *(row for n in range(7)
                       for row in (customer(f"L{n}", postal_code=f"0{n}000"),
                                   line(f"L{n}", "2026-02-01"))))  # fmt: skip
    recall = launch(app.engine)
    config = app.letter_settings(recall.id)
    config = type(config)(**{**config.__dict__, "batch_size": 3})
    letters.plan_letters(engine=app.engine, recall_id=recall.id, config=config,
                         templates=app.templates)  # fmt: skip
    cluster = DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={  # its dashboard on any free port: another cluster may hold 8787
            "n_workers": 2,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": ":0",
        },
    )
    rendered = render_letters_on_dask.with_options(task_runner=cluster)(recall.id)
    again = render_letters_on_dask.with_options(task_runner=cluster)(recall.id)
    assert (rendered, again) == (7, 0)  # a second run finds nothing left to render
    with Session(app.engine) as session:
        assert session.scalar(select(func.count()).where(LetterBatch.rendered_at.is_(None))) == 0
        assert session.scalar(select(func.count()).where(Letter.page.is_(None))) == 0
        files = session.scalars(select(LetterBatch.file)).all()
    assert len(files) == 3
    pages = sum(len(PdfReader(config.out_dir / name).pages) for name in files)
    assert pages == 7 and (config.out_dir / "manifest.csv").exists()
