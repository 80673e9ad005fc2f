"""Settings, read once from the environment at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    home_country: str = "FR"
    home_language: str = "fr"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """RECALL_DATA_DIR (default ./var), RECALL_DATABASE_URL (default SQLite in the data dir)."""
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("RECALL_DATA_DIR") or "var").resolve()
        url = env.get("RECALL_DATABASE_URL") or f"sqlite:///{data_dir / 'recall.db'}"
        return cls(
            data_dir=data_dir,
            database_url=url,
            home_country=(env.get("RECALL_HOME_COUNTRY") or "FR").upper(),
            home_language=(env.get("RECALL_HOME_LANGUAGE") or "fr").lower(),
        )
