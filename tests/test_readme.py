"""The README as a newcomer follows it, top to bottom: every command can run where it stands."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _command_lines() -> list[str]:
    """The lines of the README's console and Python blocks, in reading order."""
    lines, inside = [], False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = not inside
            continue
        if inside:
            lines.append(line)
    return lines


def test_parity_is_on_path_before_the_first_parity_command() -> None:
    lines = _command_lines()
    first = next(i for i, line in enumerate(lines) if line.startswith("$ parity "))
    before = "\n".join(lines[:first])
    assert before.splitlines()[:2] == ["make demo", "make test"]  # the two set-up commands first
    assert "source .venv/bin/activate" in before  # make demo installs parity into .venv only


def test_it_says_how_to_install_parity_into_ones_own_project() -> None:
    text = README.read_text(encoding="utf-8")
    tour = text.index("## A short tour")
    for way in ("uv add parity-ml", "pip install parity-ml", "pip install -e "):
        assert 0 <= text.find(way) < tour, way


def test_a_model_alias_is_set_before_the_tour_uses_it() -> None:
    lines = _command_lines()
    aliased: set[str] = set()
    for line in lines:
        if not (line.startswith("$ ") or "parity." in line):  # commands and API calls only
            continue
        move = re.match(r"\$ parity models alias (\S+) (.*)", line)
        if move:  # "alias NAME VERSION ALIAS" or "alias NAME/VERSION ALIAS"
            name = re.split(r"[/@]", move.group(1))[0]
            words = move.group(2).split()
            aliased.add(f"{name}@{words[1] if words[0].isdigit() else words[0]}")
        for reference in re.findall(r"\b([a-z][\w-]*@[a-z][\w-]*)\b", line):
            assert reference in aliased, f"{reference} is used before it exists: {line}"


def test_the_tour_uses_the_settled_words() -> None:
    lines = "\n".join(_command_lines())
    for old in ("object verify", "data log", "runs restore", "remote remove"):
        assert f"parity {old}" not in lines
