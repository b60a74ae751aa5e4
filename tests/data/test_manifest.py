"""The data version record: canonical bytes, round trip, and what it needs for checkout."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parity.core.errors import UsageError
from parity.core.paths import is_contained
from parity.core.records import StoredRecord
from parity.data.manifest import (
    EXECUTABLE,
    REGULAR,
    Chunk,
    DataVersion,
    FileEntry,
    check_paths,
    make_version,
)
from parity.data.versions import canonical_record_bytes

PACK_A, PACK_B = "a" * 64, "b" * 64


def _version() -> DataVersion:
    one = Chunk("1" * 64, PACK_A, 5, 10, 20)
    two = Chunk("2" * 64, PACK_B, 5, 30, 30)
    return make_version(
        "folder",
        [
            FileEntry('z/ünïcødé "quoted" 数据.csv', 50, REGULAR, "3" * 64, (one, two)),
            FileEntry("a/run.sh", 30, EXECUTABLE, "2" * 64, (two,)),
            FileEntry("empty", 0, REGULAR, "4" * 64, ()),
        ],
        ["empty folder"],
    )


def test_orjson_bytes_are_the_canonical_bytes_so_ids_agree() -> None:
    version = _version()
    record = version.to_record()
    assert canonical_record_bytes(version) == record.to_bytes()


def test_a_version_round_trips_and_names_each_pack_once() -> None:
    version = _version()
    body = version.to_dict()
    assert body["packs"] == [PACK_B, PACK_A]  # in order of first use, by sorted path
    assert body["size"] == 80
    assert (
        DataVersion.from_record(StoredRecord.from_bytes(version.to_record().to_bytes())) == version
    )
    assert version.files[0].path == "a/run.sh"
    assert version.files[0].executable
    assert version.files[2].chunks[0].compressed


def test_a_damaged_or_foreign_record_is_refused() -> None:
    with pytest.raises(UsageError, match="not a data version record"):
        DataVersion.from_record(StoredRecord("model", 1, {}))
    with pytest.raises(UsageError, match="newer than this Parity"):
        DataVersion.from_record(StoredRecord("data", 99, {}))
    with pytest.raises(UsageError, match="damaged data version record"):
        DataVersion.from_dict({"kind": "folder", "packs": [], "files": [{"path": "x"}]})


@pytest.mark.parametrize(
    "path", ["../outside", "a/../../outside", "/etc/passwd", "a//b", "./a", "a/.", "", "a\x00b"]
)
def test_a_path_that_would_escape_the_checkout_is_refused(path: str) -> None:
    body = _version().to_dict()
    body["files"][0]["path"] = path
    with pytest.raises(UsageError, match=r"damaged data version record.*escapes the folder"):
        DataVersion.from_dict(body)
    folders = _version().to_dict()
    folders["folders"] = [path]
    with pytest.raises(UsageError, match="escapes the folder"):
        DataVersion.from_dict(folders)


_PARTS = st.sampled_from(["a", "b", ".", "..", "...", "", "/", "\x00", "é"])


@given(st.lists(st.lists(_PARTS, max_size=5).map("".join), min_size=1, max_size=4))
def test_the_bulk_path_check_agrees_with_the_one_path_rule(paths: list[str]) -> None:
    # status checks a 20,000-path record in one pass; it must refuse exactly what checkout does
    refused = not all(is_contained(p) for p in paths)
    if refused:
        with pytest.raises(UsageError, match="escapes the folder"):
            check_paths(paths)
    else:
        check_paths(paths)
