"""Running a Prefect flow from a command: the flow engine first, one readable line if it fails."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from recall.cli.output import fail, say
from recall.settings import Settings

ENGINE_FAILED = 3  # exit code: the flow engine could not be reached or started


@contextlib.contextmanager
def flow_engine() -> Iterator[Settings]:
    """The schema migrated and a flow engine answering, for the flows run inside."""
    import httpx

    from recall import flow_engine as engine
    from recall.bootstrap import build_app, prepare_prefect

    settings = Settings.from_env()
    prepare_prefect(settings)
    build_app(settings)  # migrate before a flow starts
    try:
        url = engine.connect(engine.EngineConfig.from_env(settings.data_dir), say)
    except engine.FlowEngineUnavailable as exc:
        fail(str(exc), ENGINE_FAILED)
    try:
        with engine.flows_on(url):
            yield settings
    except httpx.TransportError as exc:
        fail(
            f"the flow engine stopped answering during the run ({exc}); run the command "
            "again: it resumes where it stopped",
            ENGINE_FAILED,
        )
