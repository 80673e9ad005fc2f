"""Template text as blocks of styled runs, wrapped to a width: the little markup letters use.

`# Heading`, `- bullet`, `**bold**`; a line break is kept as written and a blank line starts a
new paragraph. Widths come from a measuring function so that this module needs no PDF library.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Run = tuple[str, bool]  # (text, bold)
Measure = Callable[[str, bool], float]  # width of a text at unit font size
_BOLD = re.compile(r"\*\*(.+?)\*\*")


@dataclass(frozen=True)
class Block:
    kind: str  # "para" | "heading" | "bullet" | "gap"
    runs: tuple[Run, ...] = ()


def parse(text: str) -> list[Block]:
    """Blocks of a rendered section, in order."""
    blocks: list[Block] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            if blocks and blocks[-1].kind != "gap":
                blocks.append(Block("gap"))
        elif stripped.startswith("# "):
            blocks.append(Block("heading", ((stripped[2:].strip(), True),)))
        elif stripped.startswith("- "):
            blocks.append(Block("bullet", runs(stripped[2:].strip())))
        else:
            blocks.append(Block("para", runs(stripped)))
    while blocks and blocks[-1].kind == "gap":
        blocks.pop()
    return blocks


def runs(text: str) -> tuple[Run, ...]:
    """`a **b** c` -> (("a ", False), ("b", True), (" c", False))."""
    out: list[Run] = []
    position = 0
    for found in _BOLD.finditer(text):
        if found.start() > position:
            out.append((text[position : found.start()], False))
        out.append((found[1], True))
        position = found.end()
    if position < len(text):
        out.append((text[position:], False))
    return tuple(out)


def wrap(parts: tuple[Run, ...], width: float, size: float, measure: Measure) -> list[list[Run]]:
    """Greedy word wrap of styled runs into lines of at most `width` (long words overflow)."""
    lines: list[list[Run]] = [[]]
    used = 0.0
    for word, bold, space_before in _words(parts):
        word_width = measure(word, bold) * size
        space = measure(" ", bold) * size if space_before and lines[-1] else 0.0
        if lines[-1] and used + space + word_width > width:
            lines.append([])
            used, space = 0.0, 0.0
        if space:
            _append(lines[-1], " ", bold)
        _append(lines[-1], word, bold)
        used += space + word_width
    return [line for line in lines if line]


def _words(parts: tuple[Run, ...]) -> list[tuple[str, bool, bool]]:
    """(word, bold, preceded by a space) for every word of the runs."""
    words: list[tuple[str, bool, bool]] = []
    pending_space = False
    for text, bold in parts:
        pieces = text.split(" ")
        for index, piece in enumerate(pieces):
            if index:
                pending_space = True
            if piece:
                glued = not pending_space and words and index == 0
                if glued:  # "**bold**," : the comma sticks to the bold word
                    words.append((piece, bold, False))
                else:
                    words.append((piece, bold, pending_space))
                pending_space = False
    return words


def _append(line: list[Run], text: str, bold: bool) -> None:
    if line and line[-1][1] == bold:
        line[-1] = (line[-1][0] + text, bold)
    else:
        line.append((text, bold))
