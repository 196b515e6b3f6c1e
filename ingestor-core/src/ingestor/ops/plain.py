"""A titled table of plain text, drawn as rich draws it off a terminal, without importing rich.

`ingestor list-types` prints a table per service; piped (a script, CI), importing rich and measuring its
renderables was a third of the command's time. `draw` gives the same characters as rich's `Table` (its
heavy-head box, the title on its own line filled to the table's width, one space of padding, no styles):
only for cells of plain ASCII (`PLAIN`), which rich prints as they are (no emoji codes, no wide characters);
anything else, and any terminal, is rich's (see ingestor.ops.report). tests/test_plain_table.py compares both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

PLAIN = re.compile(r"[A-Za-z0-9_.,()\[\] -]*")  # what rich prints as it is (":" may start an emoji code)
Row = Sequence[str]


def drawable(title: str, header: Row, rows: Sequence[Row]) -> bool:
    """Whether `draw` gives what rich would: every cell plain ASCII (no markup, no emoji code, one cell a char),
    and the title no wider than the table (rich would fold it)."""
    plain = all(PLAIN.fullmatch(cell) for cell in [title, *header, *(cell for row in rows for cell in row)])
    return plain and len(title) <= sum(_widths(header, rows)) + len(header) + 1


def _widths(header: Row, rows: Sequence[Row]) -> list[int]:
    """Each column's width: its widest cell and a space either side."""
    return [max(len(cell) for cell in column) + 2 for column in zip(header, *rows, strict=True)]


def draw(title: str, header: Row, rows: Sequence[Row]) -> str:
    """The table's lines, each ending with a newline, as rich's `Table(title=..., title_justify="left")` prints
    them on a console of unbounded width that is no terminal."""
    widths = _widths(header, rows)
    width = sum(widths) + len(widths) + 1

    def line(left: str, fill: str, middle: str, right: str) -> str:
        return left + middle.join(fill * w for w in widths) + right

    def cells(edge: str, row: Row) -> str:
        return edge + edge.join(f" {cell.ljust(w - 2)} " for cell, w in zip(row, widths, strict=True)) + edge

    lines = [
        title.ljust(width),
        line("┏", "━", "┳", "┓"),
        cells("┃", header),
        line("┡", "━", "╇", "┩"),
        *(cells("│", row) for row in rows),
        line("└", "─", "┴", "┘"),
    ]
    return "".join(f"{text}\n" for text in lines)
