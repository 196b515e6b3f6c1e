"""`ingestor list-types` off a terminal: its tables drawn without rich (ingestor.ops.plain) are rich's, character
for character, wherever the plain drawing is used; and it is used exactly where rich finds no terminal."""

from __future__ import annotations

import io
import sys

import pytest
from rich.console import Console
from rich.table import Table

from ingestor.environment import plain_stdout
from ingestor.ops import plain
from ingestor.ops.report import UNFOLDED
from ingestor.plugins import load_plugins

HEADER = ("data type", "table", "key")


def rich_draws(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """What `ingestor.ops.report` prints with rich off a terminal."""
    out = io.StringIO()
    table = Table(title=title, title_justify="left")
    for column in header:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console(file=out, highlight=False, markup=False, width=UNFOLDED).print(table)
    return out.getvalue()


def test_the_installed_plugins_tables_are_drawn_as_rich_draws_them() -> None:
    catalog = load_plugins(strict=True, warn=False).catalog
    assert len(catalog.services()) >= 3
    for env in ("dev", "prd"):
        for service in catalog.services():
            types = catalog.types(service)
            rows = [(dt.name, f"{dt.dataset_for(env)}.{dt.table_for(env)}", ", ".join(dt.primary_key)) for dt in types]
            title = f"{service} ({len(types)} data types)"
            assert plain.drawable(title, HEADER, rows)
            assert plain.draw(title, HEADER, rows) == rich_draws(title, HEADER, rows)


@pytest.mark.parametrize(
    ("title", "rows", "drawable"),
    [
        ("x (1 data types)", [("a", "b.c", "")], True),  # an empty cell, a title as wide as the table
        ("s (2 data types)", [("longer_name", "d_dev.t", "k1, k2"), ("b", "d_dev.table_of_b", "k")], True),
        ("s (1 data types)", [("a", "b.c", "[bold]k")], True),  # no markup
        ("a_service_with_a_long_name (1 data types)", [("a", "b.c", "")], False),  # rich folds the title
        ("s (1 data types)", [("a", "b.c", ":thumbs_up:")], False),  # rich prints an emoji
        ("s (1 data types)", [("a", "b.c", "日付")], False),  # wide characters
    ],
)
def test_a_table_is_drawn_plainly_exactly_where_it_comes_out_as_rich_draws_it(
    title: str, rows: list[tuple[str, ...]], drawable: bool
) -> None:
    assert plain.drawable(title, HEADER, rows) is drawable
    assert (plain.draw(title, HEADER, rows) == rich_draws(title, HEADER, rows)) is drawable


class Stdout(io.StringIO):
    def __init__(self, tty: bool, encoding: str = "utf-8") -> None:
        super().__init__()
        self.tty, self._encoding = tty, encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [False, True])
@pytest.mark.parametrize(
    "env",
    [
        {},
        {"FORCE_COLOR": "1"},
        {"FORCE_COLOR": ""},
        {"TTY_COMPATIBLE": "1"},
        {"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"},
    ],
)
def test_stdout_is_plain_where_rich_finds_no_terminal(
    tty: bool, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdout", Stdout(tty))
    assert plain_stdout() == (not Console().is_terminal)
    monkeypatch.setattr(sys, "stdout", Stdout(tty, encoding="ascii"))  # rich draws an ASCII box
    assert not plain_stdout()
