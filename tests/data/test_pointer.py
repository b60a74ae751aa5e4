"""Pointer files: their text form, .gitignore entries and finding them."""

from __future__ import annotations

from pathlib import Path

import pytest

from parity.core.errors import UsageError
from parity.data.pointer import (
    Pointer,
    find_pointers,
    pointer_path,
    read_pointer,
    target_of,
    write_pointer,
)

VERSION = "ab" * 32


def test_a_pointer_round_trips_and_is_small_yaml(tmp_path: Path) -> None:
    import yaml

    pointer = Pointer(VERSION, size=123, files=4, kind="folder")
    path = pointer_path(tmp_path / "data")
    assert path.name == "data.parity"
    assert target_of(path) == tmp_path / "data"
    write_pointer(path, pointer)
    assert read_pointer(path) == pointer
    assert yaml.safe_load(path.read_text()) == pointer.to_dict()


def test_a_hand_edited_pointer_is_read_with_yaml(tmp_path: Path) -> None:
    path = tmp_path / "x.parity"
    path.write_text(f"format: 1\ndata_version: '{VERSION}'\nkind: file\nsize: 5\nfiles: 1\n")
    assert read_pointer(path) == Pointer(VERSION, 5, 1, "file")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("format: 9\ndata_version: x\n", "pointer format 9"),
        ("format: 1\ndata_version: nothex\nsize: 1\nfiles: 1\n", "no valid data_version"),
        (f"format: 1\ndata_version: {VERSION}\n", "lacks size or files"),
    ],
)
def test_damaged_pointers_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.parity"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        read_pointer(path)


def test_the_gitignore_entry_is_added_once_and_escaped(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pyc")
    for _ in range(2):
        write_pointer(pointer_path(tmp_path / "data"), Pointer(VERSION, 1, 1))
        write_pointer(pointer_path(tmp_path / "odd[1]*.csv"), Pointer(VERSION, 1, 1, "file"))
    assert (tmp_path / ".gitignore").read_text().splitlines() == [
        "*.pyc",
        "/data",
        "/odd\\[1]\\*.csv",
    ]


def test_find_pointers_skips_git_parity_and_versioned_folders(tmp_path: Path) -> None:
    for relative in ("a.parity", "sub/b.parity", ".git/c.parity", ".parity/d.parity"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x")
    (tmp_path / "sub" / "b" / "inside.parity").parent.mkdir(parents=True)
    (tmp_path / "sub" / "b" / "inside.parity").write_text("data, not a pointer")
    assert find_pointers(tmp_path) == [tmp_path / "a.parity", tmp_path / "sub" / "b.parity"]
