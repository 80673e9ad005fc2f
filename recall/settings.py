"""Settings, read once from the environment at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    home_country: str = "FR"
    home_language: str = "fr"
    templates_dir: Path = PROJECT_TEMPLATES
    letter_batch_size: int = 1000
    letter_workers: int = 2

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
            templates_dir=Path(env.get("RECALL_TEMPLATES_DIR") or PROJECT_TEMPLATES).resolve(),
            letter_batch_size=_positive(env, "RECALL_LETTER_BATCH_SIZE", 1000),
            letter_workers=_positive(env, "RECALL_LETTER_WORKERS", os.cpu_count() or 1),
        )


def _positive(env: dict[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if not text:
        return default
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"{name} must be a whole number above 0, got {text!r}")
    return int(text)
