"""Ids from the retailer's files (store ids, agent ids) as parts of the names of our files."""

from __future__ import annotations

import hashlib
import re

from recall.domain.definition import SAFE_ID


def file_part(text: str) -> str:
    """`text` as it is when it is a safe name (letters, digits, `.`, `_`, `-`, at most 64,
    not starting with a dot); else its safe characters and 8 hex digits of its SHA-256, so
    that a store id `S/1` can't leave its folder and never shares a file with `S_1`."""
    if SAFE_ID.fullmatch(text):
        return text
    kept = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:40]
    return f"{kept or 'id'}~{hashlib.sha256(text.encode()).hexdigest()[:8]}"
