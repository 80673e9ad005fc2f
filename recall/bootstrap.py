"""The composition root: settings, engine, clock, telephony and templates, built once.

Every entry point (the `recall` command, the console, a flow) takes its parts from one `App`:
the database engine with its schema up to date, the clock, the telephony adapter, the letter
templates and the settings of each use case. A part is built the first time it is asked for,
so a command pays only for what it uses, and never twice in a process.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from recall.clock import Clock, utc_now
from recall.db.engine import make_engine, upgrade
from recall.settings import Settings

if TYPE_CHECKING:  # built on demand: a command pays only for the parts it uses
    from sqlalchemy import Engine

    from recall.calling.dialing import DialSettings
    from recall.mail.port import Mailer
    from recall.notices.letter_fields import LetterSettings
    from recall.notices.templates import TemplateSet
    from recall.reach.emails import MailSettings
    from recall.reach.sms import SmsSettings
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

    @cached_property
    def clock(self) -> Clock:
        """The system clock, or the fixed time RECALL_NOW names (simulations, tests)."""
        fixed = self.settings.now
        if fixed is None:
            return utc_now
        return lambda: fixed

    @cached_property
    def telephony(self) -> Telephony:
        """Twilio when its credentials are in the environment, else the offline adapter."""
        settings = self.settings
        if settings.twilio_account_sid and settings.twilio_auth_token:
            from recall.telephony.twilio import TwilioTelephony

            return TwilioTelephony(
                account_sid=settings.twilio_account_sid,
                auth_token=settings.twilio_auth_token,
                api_base=settings.twilio_api_base or None,
            )
        from recall.telephony.offline import OfflineTelephony

        return OfflineTelephony(settings.data_dir / "telephony" / "offline-outbox.jsonl")

    @cached_property
    def mailer(self) -> Mailer:
        """The SMTP server of RECALL_SMTP_URL, else an outbox of .eml files in the data dir."""
        if self.settings.smtp_url:
            from recall.mail.smtp import SmtpMailer, SmtpServer

            return SmtpMailer(SmtpServer.from_url(self.settings.smtp_url))
        from recall.mail.outbox import OutboxMailer

        return OutboxMailer(self.settings.data_dir / "email-outbox")

    @property
    def mail_settings(self) -> MailSettings:
        from recall.reach.emails import MailSettings

        settings = self.settings
        return MailSettings(
            mail_from=settings.mail_from,
            page_base=settings.page_base,
            templates_dir=settings.templates_dir,
            connections=settings.smtp_connections,
            rate=settings.smtp_rate,
        )

    @property
    def sms_settings(self) -> SmsSettings:
        from recall.reach.sms import SmsSettings

        return SmsSettings.from_settings(self.settings)

    @cached_property
    def templates(self) -> TemplateSet:
        """The letter and poster templates, in the home language and the others there are."""
        from recall.notices.templates import TemplateSet

        return TemplateSet(self.settings.templates_dir / "letters", self.settings.home_language)

    @cached_property
    def dial_settings(self) -> DialSettings:
        from recall.calling.dialing import DialSettings

        settings = self.settings
        return DialSettings(
            public_url=settings.public_url,
            hotline=settings.hotline,
            home_country=settings.home_country,
            templates_dir=settings.templates_dir / "scripts",
        )

    @property
    def fonts_dir(self) -> Path:
        return self.settings.templates_dir / "fonts"

    def letter_settings(self, recall_id: str) -> LetterSettings:
        """Where a recall's letters go and how they are made."""
        from recall.notices.letter_fields import LetterSettings

        settings = self.settings
        return LetterSettings(
            out_dir=settings.data_dir / "letters" / recall_id,
            templates_dir=settings.templates_dir / "letters",
            fonts_dir=self.fonts_dir,
            home_language=settings.home_language,
            home_country=settings.home_country,
            batch_size=settings.letter_batch_size,
            workers=settings.letter_workers,
            page_base=settings.page_base,
        )


def build_app(settings: Settings | None = None) -> App:
    """Connect to the configured database and bring its schema up to date."""
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url, pool=settings.db_pool)
    upgrade(engine)
    return App(settings, engine)


_current: list[App] = []  # the App of the environment's settings, once asked for
_building = threading.Lock()


def current_app() -> App:
    """The App of the environment's settings, for code the flow engine starts (tasks).

    Built once: the tasks of a flow share its engine and telephony. When the environment
    names other settings (a test, another data dir), the App is built anew for them and the
    old engine closed: nothing stale to reset.
    """
    settings = Settings.from_env()
    with _building:
        if _current and _current[0].settings == settings:
            return _current[0]
        if _current:
            _current.pop().engine.dispose()
        _current.append(build_app(settings))
        return _current[0]


def prepare_prefect(settings: Settings) -> None:
    """Keep Prefect's local state under our data dir, and never phone home."""
    os.environ.setdefault("PREFECT_HOME", str(settings.data_dir / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
