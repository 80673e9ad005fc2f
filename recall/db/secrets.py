"""Keys made once per database (migration 0016), read once per process."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recall.db.models import AppSecret

PAGE_TOKEN = "page_token"


class MissingSecret(RuntimeError):
    """The database has no such key: it was not migrated to revision 0016."""


@cache
def _read(url: str, name: str, engine: Engine) -> bytes:
    with Session(engine) as session:
        value = session.scalar(select(AppSecret.value).where(AppSecret.name == name))
    if value is None:
        raise MissingSecret(f"no {name} key in the database: it is older than revision 0016")
    return bytes.fromhex(value)


def page_key(engine: Engine) -> bytes:
    """The key that signs the self-service links of this database."""
    return _read(str(engine.url), PAGE_TOKEN, engine)
