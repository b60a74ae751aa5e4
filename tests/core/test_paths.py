"""Paths inside records stay inside the folder they are written into."""

from __future__ import annotations

import pytest

from parity.core.paths import is_contained


@pytest.mark.parametrize("path", ["a", "a/b.csv", "数据/ünï cødé.txt", "a/.hidden", "..dots"])
def test_relative_paths_inside_the_folder_are_accepted(path: str) -> None:
    assert is_contained(path)


@pytest.mark.parametrize(
    "path", ["", "..", "../a", "a/../b", "/abs", "a//b", "a/", ".", "a/./b", "a\x00"]
)
def test_paths_that_escape_or_are_not_canonical_are_refused(path: str) -> None:
    assert not is_contained(path)
