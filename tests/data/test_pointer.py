"""Pointer files: their text form, .gitignore entries and finding them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parity.core.errors import UsageError
from parity.core.ids import is_digest
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


# Properties: what Parity writes, what a person may make of it, and anything at all.
POINTERS = st.builds(
    Pointer,
    data_version=st.text("0123456789abcdef", min_size=64, max_size=64),
    size=st.integers(min_value=0, max_value=2**63),
    files=st.integers(min_value=0, max_value=2**31),
    kind=st.sampled_from(["file", "folder"]),
)


@given(POINTERS)
def test_a_written_pointer_reads_back_and_is_plain_yaml(pointer: Pointer) -> None:
    import yaml

    text = pointer.to_text()
    assert Pointer.from_text(text) == pointer
    assert yaml.safe_load(text) == pointer.to_dict()


@st.composite
def hand_edited(draw: st.DrawFn, pointer: Pointer) -> str:
    """The pointer as a person might rewrite it: reordered, quoted, commented, spaced."""

    def scalar(value: object) -> str:
        # An id of digits only is a number to YAML unless quoted (Parity quotes it too).
        digits = isinstance(value, str) and value.isdigit()
        quote = draw(st.sampled_from(["'", '"'] if digits else ["", "'", '"']))
        return f"{quote}{value}{quote}"

    lines = [
        "format: 1",
        f"data_version: {scalar(pointer.data_version)}",
        f"kind: {scalar(pointer.kind)}",
        f"size: {scalar(pointer.size)}",
        f"files: {scalar(pointer.files)}",
        f"note: {scalar(draw(st.from_regex(r'[a-z][a-z ]{0,12}[a-z]', fullmatch=True)))}",
    ]
    lines = draw(st.permutations(lines))
    edited = []
    for line in lines:
        edited += draw(st.sampled_from([[], ["# a comment"], [""]]))
        edited.append(line + draw(st.sampled_from(["", "  ", "  # why"])))
    return "\n".join(edited) + draw(st.sampled_from(["", "\n"]))


@given(st.data())
def test_a_hand_edited_pointer_reads_as_the_same_pointer(data: st.DataObject) -> None:
    pointer = data.draw(POINTERS)
    assert Pointer.from_text(data.draw(hand_edited(pointer))) == pointer


# Values that trip parsers: non-ASCII digits, YAML's infinities, octal, hex, bools, collections.
TRICKY = st.sampled_from(
    [
        *("-3", "1.5", "²", "٣", ".inf", ".nan", "1e400", "0x10", "010", "null", "true", "[1]"),
        *("{a: 1}", "'5'", "folder", f"'{VERSION}'", "|", "&a 1", "*a"),
    ]
) | st.text(max_size=8)
VALID = {"format": "1", "data_version": VERSION, "kind": "file", "size": "12", "files": "1"}


@given(
    st.dictionaries(st.sampled_from([*VALID, "other"]), TRICKY, max_size=3),
    st.booleans(),
    st.text(max_size=40),
)
def test_any_pointer_text_reads_or_is_a_usage_error(
    changed: dict[str, str], quote_version: bool, tail: str
) -> None:
    fields = {**VALID, **({"data_version": f"'{VERSION}'"} if quote_version else {}), **changed}
    text = "".join(f"{key}: {value}\n" for key, value in fields.items()) + tail
    try:
        pointer: Pointer | UsageError = Pointer.from_text(text)
    except UsageError as exc:
        pointer = exc
    if isinstance(pointer, UsageError):
        assert str(pointer).startswith(("pointer ", "cannot read pointer"))
    else:
        assert is_digest(pointer.data_version)
        assert pointer.kind in ("file", "folder")
        assert pointer.size >= 0
        assert pointer.files >= 0
