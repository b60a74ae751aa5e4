"""Tables and styled lines written without Rich, when Rich would write exactly these characters.

Importing Rich costs a short command (``parity status``, ``runs list``) a fifth of its time, and
for output read by a program or a pipe Rich writes no style at all: a table is box characters
around padded cells. So when the output is not a terminal and nothing could make Rich write it
otherwise (color forced by the environment, a non-UTF-8 stream, text Rich reads as markup or
emoji codes, characters wider or narrower than one cell, a table too wide for its 200 columns),
the table is written here; in every other case ``cli.output`` hands it to Rich. A test renders
many tables both ways and compares them character for character.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from typing import TextIO

# The width ``cli.output.console`` gives Rich when the output is not a terminal.
WIDTH = 200
# Variables that make Rich treat any stream as a terminal (and write styles).
_FORCING = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "JUPYTER_LINES")
# What Rich replaces as an emoji code, ``:name:``; names of one or two digits are none (the
# test checks Rich's table), so clock times like 02:48:19 stay plain.
_EMOJI = re.compile(r":(\S*?)(?:-(?:emoji|text))?:")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
_BOLD = re.compile(r"\[/?bold\]")


def plain_stream() -> TextIO | None:
    """stdout, when Rich would write to it without styles; else None."""
    stream = sys.stdout
    try:
        if stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower()
    if not encoding.startswith("utf") or sys.platform == "win32":
        return None
    if any(os.environ.get(name) for name in _FORCING):
        return None
    return stream


def is_plain(text: str) -> bool:
    """Whether Rich prints ``text`` as it is: printable ASCII, no markup, no emoji code."""
    if not _PRINTABLE.fullmatch(text) or "[" in text:
        return False
    return all(
        m.group(1) == "" or (m.group(1).isdigit() and len(m.group(1)) <= 2)
        for m in _EMOJI.finditer(text)
    )


def write_table(
    columns: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None
) -> bool:
    """Write the table as Rich's default (heavy head) box would; False, writing nothing, when
    Rich must write it."""
    stream = plain_stream()
    if stream is None:
        return False
    cells = [list(columns), *(list(row) for row in rows)]
    if any(len(row) != len(columns) for row in cells):
        return False
    if not all(
        is_plain(cell) and cell == cell.strip() and "  " not in cell
        for row in cells
        for cell in row
    ):
        return False
    widths = [max(len(row[i]) for row in cells) + 2 for i in range(len(columns))]
    table_width = sum(widths) + len(widths) + 1
    if table_width > WIDTH:
        return False
    lines = []
    if title:
        if not is_plain(title) or len(title) > table_width or title != title.strip():
            return False
        lines.append(title)
    lines.append(_edge("┏", "━", "┳", "┓", widths))
    lines.append(_row("┃", cells[0], widths))
    lines.append(_edge("┡", "━", "╇", "┩", widths))
    lines.extend(_row("│", row, widths) for row in cells[1:])
    lines.append(_edge("└", "─", "┴", "┘", widths))
    stream.write("\n".join(lines) + "\n")
    stream.flush()
    return True


def write_markup(message: str) -> bool:
    """Write a line whose only markup is ``[bold]``, as Rich writes it to a non-terminal (the
    tags dropped); False, writing nothing, when Rich must write it."""
    stream = plain_stream()
    text = _BOLD.sub("", message)
    if stream is None or not is_plain(text):
        return False
    stream.write(text + "\n")
    stream.flush()
    return True


def _edge(left: str, line: str, cross: str, right: str, widths: Sequence[int]) -> str:
    return left + cross.join(line * width for width in widths) + right


def _row(bar: str, cells: Sequence[str], widths: Sequence[int]) -> str:
    return (
        bar
        + bar.join(f" {cell:<{width - 2}} " for cell, width in zip(cells, widths, strict=True))
        + bar
    )
