import math
from random import Random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


# Properties: any JSON document, in any key order.
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
DOCUMENTS = st.dictionaries(
    st.text(),
    st.recursive(
        _SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    ),
    max_size=6,
)


def _reordered(value: Any, random: Random) -> Any:
    """The same document with every object's keys inserted in another order."""
    if isinstance(value, dict):
        keys = list(value)
        random.shuffle(keys)
        return {key: _reordered(value[key], random) for key in keys}
    if isinstance(value, list):
        return [_reordered(item, random) for item in value]
    return value


@given(DOCUMENTS)
def test_any_document_round_trips_and_its_bytes_are_a_fixed_point(document: dict[str, Any]) -> None:
    data = canonical_bytes(document)
    assert parse_canonical(data) == document
    assert canonical_bytes(parse_canonical(data)) == data


@given(DOCUMENTS, st.randoms(use_true_random=False))
def test_the_id_does_not_depend_on_key_order(document: dict[str, Any], random: Random) -> None:
    shuffled = _reordered(document, random)
    assert canonical_bytes(shuffled) == canonical_bytes(document)
    assert StoredRecord("x", 1, shuffled).id == StoredRecord("x", 1, document).id


@given(DOCUMENTS, st.sampled_from([math.nan, math.inf, -math.inf]))
def test_a_non_finite_number_anywhere_is_a_usage_error(
    document: dict[str, Any], bad: float
) -> None:
    with pytest.raises(UsageError, match="non-finite"):
        canonical_bytes({**document, "~": [document, {"deep": bad}]})


@given(st.text(st.characters(codec=None, categories=["Cs", "L", "N"])))
def test_any_text_is_stored_or_refused_as_usage(text: str) -> None:
    # A lone surrogate is what os.fsdecode makes of a file name that is not UTF-8.
    if any("\ud800" <= char <= "\udfff" for char in text):
        with pytest.raises(UsageError, match="not valid Unicode"):
            canonical_bytes({"name": text})
    else:
        assert parse_canonical(canonical_bytes({"name": text})) == {"name": text}
