import math

import pytest

from parity.core.canonical import canonical_bytes, parse_canonical
from parity.core.errors import UsageError
from parity.core.records import StoredRecord


def test_keys_are_sorted_and_separators_compact() -> None:
    assert canonical_bytes({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == b'{"a":[1,{"c":3,"d":2}],"b":1}'


def test_unicode_is_written_as_utf8_not_escaped() -> None:
    assert canonical_bytes({"name": "données"}) == '{"name":"données"}'.encode()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_with_their_path(bad: float) -> None:
    with pytest.raises(UsageError, match=r"metrics\[1\]"):
        canonical_bytes({"metrics": [1.0, bad]})


def test_round_trip() -> None:
    document = {"x": [1, 2.5, None, True], "y": {"z": "ü"}}
    assert parse_canonical(canonical_bytes(document)) == document


def test_record_id_is_stable_and_content_sensitive() -> None:
    a = StoredRecord("env", 1, {"python": "3.11.7", "packages": {"numpy": "2.1.0"}})
    same = StoredRecord("env", 1, {"packages": {"numpy": "2.1.0"}, "python": "3.11.7"})
    other = StoredRecord("env", 1, {"python": "3.11.7", "packages": {"numpy": "2.1.1"}})
    assert a.id == same.id
    assert a.id != other.id
    assert len(a.id) == 64
    assert StoredRecord.from_bytes(a.to_bytes()) == a


def test_not_a_record_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="missing 'body'"):
        StoredRecord.from_dict({"kind": "env", "format": 1})
