"""Rendering one batch file, in whatever process runs it: the unit of parallel work."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from recall.notices.letter_pdf import LetterBatchWriter, LetterPage, register_fonts
from recall.notices.templates import TemplateSet


@dataclass
class BatchJob:
    """Everything a worker process needs to render one batch, with no database access."""

    batch_no: int
    path: Path
    templates_dir: Path
    fonts_dir: Path
    home_language: str
    title: str
    sender: list[str]
    footer: str
    shared: dict[str, dict[str, Any]]  # language -> fields common to all letters
    letters: list[tuple[int, LetterPage]] = field(default_factory=list)  # (case_id, page)


@dataclass
class BatchOutcome:
    batch_no: int
    path: Path
    pages: int
    letters: list[tuple[int, int, int, str]]  # (case_id, first page, pages, template version)
    peak_mb: float = 0.0  # the rendering process's peak resident memory so far


@cache
def _templates(folder: Path, home_language: str) -> TemplateSet:
    return TemplateSet(folder, home_language)


def render_batch(job: BatchJob) -> BatchOutcome:
    """Write the batch to `<file>.part` and rename it: a batch file on disk is always whole."""
    register_fonts(str(job.fonts_dir))
    templates = _templates(job.templates_dir, job.home_language)
    partial = job.path.with_name(job.path.name + ".part")
    writer = LetterBatchWriter(partial, title=job.title, sender=job.sender, footer=job.footer)
    placed = []
    for case_id, letter in job.letters:
        template = templates.get("letter", letter.language)
        letter.context.update(job.shared[template.language])
        first, pages = writer.add(template, letter)
        placed.append((case_id, first, pages, template.version))
    pages = writer.close()
    os.replace(partial, job.path)
    return BatchOutcome(job.batch_no, job.path, pages, placed, _peak_mb())


def _peak_mb() -> float:
    """VmHWM: unlike ru_maxrss it starts afresh when a spawned worker execs."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):
        return 0.0
