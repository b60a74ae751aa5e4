"""Tables and bold lines written without Rich are exactly what Rich writes to a pipe; whatever
Rich would write otherwise (markup, emoji codes, wide characters, too wide, a terminal, colour
forced) is left to Rich."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich._emoji_codes import EMOJI
from rich.console import Console
from rich.table import Table

from parity.cli import output, plain

# Letters Rich treats specially too: markup, emoji codes, wide and combining characters.
TEXT = st.text(alphabet="ab Z09:-_/.[]@=é中\u0301\t", max_size=14)
# Only what a plain table may hold, long enough to pass Rich's 200 columns now and then.
PLAIN = st.text(alphabet="ab Z09:-_/.=", max_size=70)


def _shapes(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.integers(min_value=1, max_value=5).flatmap(
        lambda n: st.tuples(
            st.lists(text, min_size=n, max_size=n),
            st.lists(st.lists(text, min_size=n, max_size=n), max_size=4),
            st.one_of(st.none(), text),
        )
    )


SHAPES = st.one_of(_shapes(TEXT), _shapes(PLAIN))


def _rich(columns: list[str], rows: list[list[str]], title: str | None) -> str:
    """What ``output.print_table`` wrote with Rich before: the reference."""
    buffer = io.StringIO()
    console = Console(file=buffer, highlight=False, soft_wrap=True, width=plain.WIDTH)
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return buffer.getvalue()


@settings(max_examples=400)
@given(SHAPES)
def test_a_plain_table_is_what_rich_writes(
    shape: tuple[list[str], list[list[str]], str | None],
) -> None:
    columns, rows, title = shape
    captured = io.StringIO()
    real, sys.stdout = sys.stdout, captured
    try:
        written = plain.write_table(columns, rows, title)
    finally:
        sys.stdout = real
    if written:
        assert captured.getvalue() == _rich(columns, rows, title)
    else:
        assert captured.getvalue() == ""


def test_everyday_tables_are_written_plain() -> None:
    rows = [["6b14ccf3", "startup", "", "finished", "2026-12-06 02:48:19", "0.4s", "loss=0.1"]]
    columns = ["run", "experiment", "name", "status", "started", "took", "metrics"]
    captured = io.StringIO()
    real, sys.stdout = sys.stdout, captured
    try:
        assert plain.write_table(columns, rows, "clf")
        assert plain.write_markup("[bold]Workspace[/bold] /tmp/project")
    finally:
        sys.stdout = real
    buffer = io.StringIO()
    Console(file=buffer, highlight=False, soft_wrap=True, width=200).print(
        "[bold]Workspace[/bold] /tmp/project"
    )
    assert captured.getvalue() == _rich(columns, rows, "clf") + buffer.getvalue()


@pytest.mark.parametrize(
    "text", ["[red]x[/red] y", ":thumbs_up: done", "naïve", "a\tb", "中文", ":100:"]
)
def test_markup_emoji_and_wide_text_go_to_rich(text: str) -> None:
    assert not plain.is_plain(text)


def test_no_emoji_code_is_a_clock_field() -> None:
    # is_plain lets ``:NN:`` (times, ids) through: Rich must have no such emoji name.
    assert not [name for name in EMOJI if name.isdigit() and len(name) <= 2]


def test_a_terminal_or_forced_colour_is_left_to_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    assert plain.plain_stream() is None
    assert not plain.write_table(["a"], [["b"]])
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert plain.plain_stream() is not None
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert plain.plain_stream() is None


def test_print_table_falls_back_to_rich_for_markup(capsys: pytest.CaptureFixture[str]) -> None:
    output.print_table(["key", "value"], [("a", "[b]")])
    assert capsys.readouterr().out == _rich(["key", "value"], [["a", "[b]"]], None)
