"""Ids from the retailer's files (store ids, agent ids) as parts of the names of our files."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

from recall.domain.definition import SAFE_ID


def file_part(text: str) -> str:
    """`text` as it is when it is a safe name (letters, digits, `.`, `_`, `-`, at most 64,
    not starting with a dot); else its safe characters and 8 hex digits of its SHA-256, so
    that a store id `S/1` can't leave its folder and never shares a file with `S_1`."""
    if SAFE_ID.fullmatch(text):
        return text
    kept = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:40]
    return f"{kept or 'id'}~{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def keep_upload(uploads: Path, filename: str, content: bytes, default: str) -> Path:
    """Write an uploaded file into `uploads` under a name of our own: the moment it came (the
    wall clock: it names a file, it is not a fact of the recall) and its safe characters."""
    uploads.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename or default).name)[:80]
    path = uploads / f"{stamp}-{safe}"
    path.write_bytes(content)
    return path
