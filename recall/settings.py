"""Settings, read once from the environment at start-up."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    db_pool: int = 0  # connections kept per process; 0: as many as a server worker's threads
    home_country: str = "FR"
    home_language: str = "fr"
    home_zone: str = "Europe/Paris"  # the console's clock for a user who chose none
    templates_dir: Path = PROJECT_TEMPLATES
    letter_batch_size: int = 1000
    letter_workers: int = 2
    case_batch_size: int = 50_000  # cases built per transaction (progress is told per batch)
    case_builders: int = 0  # batches built at once; 0: 1 on SQLite (one writer), 2 elsewhere
    # Telephony: Twilio when both credentials are set, else the offline adapter.
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_api_base: str = ""  # a stand-in of Twilio's REST API (tests, staging)
    public_url: str = "http://127.0.0.1:8000"  # where Twilio reaches our webhooks
    hotline: str = ""  # caller id when a recall names no hotline
    now: dt.datetime | None = None  # a fixed time instead of the system clock (simulations)
    # Console: whether cookies are sent over HTTPS only (on when the public address is https).
    secure_cookies: bool = False
    # Addresses of the HTTPS proxies whose X-Forwarded-For is believed (none: the peer's own).
    trusted_proxies: str = ""
    dask_address: str = ""  # a Dask scheduler (tcp://host:8786) rendering letters, else local
    # E-mail notices: an SMTP server (smtp://user:password@host:587, STARTTLS when the server
    # offers it; smtps:// for TLS from the start), else .eml files in the data dir's outbox.
    smtp_url: str = ""
    mail_from: str = "Rappel produit <rappel@localhost>"
    smtp_connections: int = 4  # sent in parallel over this many connections
    smtp_rate: int = 100  # e-mails a second at most, all connections together
    sms_rate: int = 10  # SMS notices a second at most, per sender number
    sms_sender: str = ""  # a number or an alphanumeric sender ID ("BRICO"); else the hotline
    page_url: str = ""  # the customers' address of the self-service page; else public_url

    @property
    def page_base(self) -> str:
        return (self.page_url or self.public_url).rstrip("/")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """RECALL_DATA_DIR (default ./var), RECALL_DATABASE_URL (default SQLite in the data dir).

        Twilio credentials come only from the environment (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN).
        """
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("RECALL_DATA_DIR") or "var").resolve()
        url = env.get("RECALL_DATABASE_URL") or f"sqlite:///{data_dir / 'recall.db'}"
        return cls(
            data_dir=data_dir,
            database_url=url,
            db_pool=_positive(env, "RECALL_DB_POOL", 0),
            home_country=(env.get("RECALL_HOME_COUNTRY") or "FR").upper(),
            home_language=(env.get("RECALL_HOME_LANGUAGE") or "fr").lower(),
            home_zone=_zone(env, "RECALL_HOME_ZONE", "Europe/Paris"),
            templates_dir=Path(env.get("RECALL_TEMPLATES_DIR") or PROJECT_TEMPLATES).resolve(),
            letter_batch_size=_positive(env, "RECALL_LETTER_BATCH_SIZE", 1000),
            letter_workers=_positive(env, "RECALL_LETTER_WORKERS", os.cpu_count() or 1),
            case_batch_size=_positive(env, "RECALL_CASE_BATCH_SIZE", 50_000),
            case_builders=_positive(env, "RECALL_CASE_BUILDERS", 0),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
            twilio_api_base=env.get("RECALL_TWILIO_API_BASE", ""),
            public_url=(env.get("RECALL_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
            hotline=env.get("RECALL_HOTLINE", ""),
            now=_instant(env, "RECALL_NOW"),
            dask_address=env.get("RECALL_DASK_ADDRESS", ""),
            smtp_url=env.get("RECALL_SMTP_URL", ""),
            mail_from=env.get("RECALL_MAIL_FROM") or cls.mail_from,
            smtp_connections=_positive(env, "RECALL_SMTP_CONNECTIONS", 4),
            smtp_rate=_positive(env, "RECALL_SMTP_RATE", 100),
            sms_rate=_positive(env, "RECALL_SMS_RATE", 10),
            sms_sender=env.get("RECALL_SMS_SENDER", "").strip(),
            page_url=env.get("RECALL_PAGE_URL", "").rstrip("/"),
            trusted_proxies=env.get("RECALL_TRUSTED_PROXIES", "").strip(),
            secure_cookies=(
                env.get("RECALL_SECURE_COOKIES")
                or str(env.get("RECALL_PUBLIC_URL", "").startswith("https:"))
            ).lower()
            in ("1", "true", "yes"),
        )


def _positive(env: dict[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if not text:
        return default
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"{name} must be a whole number above 0, got {text!r}")
    return int(text)


def _instant(env: dict[str, str], name: str) -> dt.datetime | None:
    text = env.get(name)
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} must be an ISO time like 2026-11-23T10:00+01:00") from None
    if value.tzinfo is None:
        raise ValueError(f"{name} needs a time zone offset, like 2026-11-23T10:00+01:00")
    return value


def _zone(env: dict[str, str], name: str, default: str) -> str:
    from recall.domain.zones import known_zone

    text = (env.get(name) or default).strip()
    if not known_zone(text):
        raise ValueError(f"{name} must be a time zone like Europe/Paris, got {text!r}")
    return text
