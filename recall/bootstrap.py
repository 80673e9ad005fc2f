"""The composition root: settings, engine and schema, built once when a process starts work."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from recall.clock import Clock, utc_now
from recall.db.engine import make_engine, upgrade
from recall.settings import Settings

if TYPE_CHECKING:  # built on demand: a command pays only for the parts it uses
    from sqlalchemy import Engine

    from recall.calling.dialing import DialSettings
    from recall.notices.letters import LetterSettings
    from recall.notices.templates import TemplateSet
    from recall.telephony.port import Telephony


@dataclass(frozen=True)
class App:
    settings: Settings
    engine: Engine

    @property
    def case_builders(self) -> int:
        """Case batches built at once: SQLite takes one writer at a time, a server more."""
        if self.settings.case_builders:
            return self.settings.case_builders
        return 1 if self.engine.dialect.name == "sqlite" else 2


def build_app(settings: Settings | None = None) -> App:
    """Connect to the configured database and bring its schema up to date."""
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return App(settings, engine)


@cache
def current_app() -> App:
    """The process-wide App, for code started by the workflow engine rather than by us."""
    return build_app()


def prepare_prefect(settings: Settings) -> None:
    """Keep Prefect's local state under our data dir, and never phone home."""
    os.environ.setdefault("PREFECT_HOME", str(settings.data_dir / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def letter_config(settings: Settings, recall_id: str) -> LetterSettings:
    """Where a recall's letters go and how they are made."""
    from recall.notices.letters import LetterSettings

    return LetterSettings(
        out_dir=settings.data_dir / "letters" / recall_id,
        templates_dir=settings.templates_dir / "letters",
        fonts_dir=settings.templates_dir / "fonts",
        home_language=settings.home_language,
        home_country=settings.home_country,
        batch_size=settings.letter_batch_size,
        workers=settings.letter_workers,
    )


def letter_templates(settings: Settings) -> TemplateSet:
    from recall.notices.templates import TemplateSet

    return TemplateSet(settings.templates_dir / "letters", settings.home_language)


def telephony(settings: Settings) -> Telephony:
    """Twilio when its credentials are in the environment, else the offline adapter."""
    if settings.twilio_account_sid and settings.twilio_auth_token:
        from recall.telephony.twilio import TwilioTelephony

        return TwilioTelephony(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            api_base=settings.twilio_api_base or None,
        )
    from recall.telephony.offline import OfflineTelephony

    return OfflineTelephony(settings.data_dir / "telephony" / "offline-outbox.jsonl")


def dial_settings(settings: Settings) -> DialSettings:
    from recall.calling.dialing import DialSettings

    return DialSettings(
        public_url=settings.public_url,
        hotline=settings.hotline,
        home_country=settings.home_country,
        templates_dir=settings.templates_dir / "scripts",
    )


def app_clock(settings: Settings) -> Clock:
    """The system clock, or the fixed time RECALL_NOW names (simulations, tests)."""
    fixed = settings.now
    if fixed is None:
        return utc_now
    return lambda: fixed
