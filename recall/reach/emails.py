"""The e-mail notices of a recall, sent: the entry point the flows and the CLI call."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from pathlib import Path

from sqlalchemy import Engine

from recall.campaign.definitions import get_definition
from recall.clock import Clock, utc_now
from recall.db.secrets import page_key
from recall.mail.port import Mailer
from recall.notices.letter_fields import shared_fields, store_names
from recall.notices.templates import TemplateSet
from recall.reach.email_message import EmailComposer
from recall.reach.email_sending import EmailReport, Progress, send_email_notices


@dataclass(frozen=True)
class MailSettings:
    mail_from: str  # "Name <address>"
    page_base: str  # where the self-service links point
    templates_dir: Path
    connections: int = 4
    rate: int = 100


def send_emails(
    *,
    engine: Engine,
    mailer: Mailer,
    templates: TemplateSet,
    settings: MailSettings,
    recall_id: str,
    clock: Clock = utc_now,
    progress: Progress | None = None,
) -> EmailReport:
    """Every queued e-mail notice of the recall, sent (see email_sending for the guarantee)."""
    definition = get_definition(engine=engine, recall_id=recall_id)
    composer = EmailComposer(
        templates=templates,
        shared=shared_fields(engine, definition, templates, clock),
        stores=store_names(engine),
        sender=formataddr(parseaddr(settings.mail_from)),
        page_base=settings.page_base,
        key=page_key(engine),
        words_file=settings.templates_dir / "notices" / "email.yaml",
    )
    return send_email_notices(
        engine=engine, mailer=mailer, composer=composer, recall_id=recall_id,
        connections=settings.connections, rate=settings.rate, clock=clock, progress=progress,
    )  # fmt: skip


def mail_domain(mail_from: str) -> str:
    """The domain of the sender's address: the right part of every Message-ID."""
    return parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
