import uuid

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from parity.core.errors import AmbiguousReference, NotFoundError, ParityError, UsageError
from parity.core.ids import (
    digest_bytes,
    is_digest,
    new_run_id,
    resolve_prefix,
    run_id_time_ms,
    short_id,
)


def test_digest_is_blake3_hex() -> None:
    # The BLAKE3 test vector for the empty input.
    assert digest_bytes(b"") == "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    assert short_id(digest_bytes(b"")) == "af1349b9f5f9"


CANDIDATES = ["abcd1111", "abcd2222", "ef001234"]


def test_unique_prefix_resolves() -> None:
    assert resolve_prefix("ef00", CANDIDATES) == "ef001234"
    assert resolve_prefix("ABCD1", CANDIDATES) == "abcd1111"


def test_ambiguous_prefix_names_the_candidates() -> None:
    with pytest.raises(AmbiguousReference, match="abcd matches 2 records") as info:
        resolve_prefix("abcd", CANDIDATES)
    assert info.value.exit_code == 2
    assert info.value.hint == "give more characters of the id"


def test_unknown_prefix_is_not_found() -> None:
    with pytest.raises(NotFoundError) as info:
        resolve_prefix("9999", CANDIDATES, kind="environment")
    assert info.value.exit_code == 3
    assert "no environment has an id starting with 9999" in str(info.value)


def test_short_or_non_hex_prefix_is_usage() -> None:
    with pytest.raises(UsageError, match="at least 4 hex"):
        resolve_prefix("ab", CANDIDATES)


def test_run_ids_sort_by_time_and_are_uuid7() -> None:
    first = new_run_id(1_700_000_000_000, bytes(10))
    later = new_run_id(1_700_000_000_001, b"\xff" * 10)
    assert first < later
    assert len(first) == 32
    assert first[12] == "7"  # the UUID version nibble
    assert run_id_time_ms(first) == 1_700_000_000_000


def test_run_id_needs_ten_random_bytes() -> None:
    with pytest.raises(ValueError, match="10 bytes"):
        new_run_id(0, b"short")


# Properties.
MILLIS = st.integers(min_value=0, max_value=2**48 - 1)
RANDOM_BITS = st.binary(min_size=10, max_size=10)


@given(MILLIS, RANDOM_BITS)
def test_a_run_id_is_a_uuid7_that_carries_its_time(now_ms: int, random_bits: bytes) -> None:
    run_id = new_run_id(now_ms, random_bits)
    parsed = uuid.UUID(hex=run_id)
    assert parsed.hex == run_id
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert run_id_time_ms(run_id) == now_ms


@given(MILLIS, MILLIS, RANDOM_BITS, RANDOM_BITS)
def test_a_later_run_id_sorts_later_whatever_its_randomness(
    t1: int, t2: int, r1: bytes, r2: bytes
) -> None:
    assume(t1 != t2)
    first, second = sorted([(t1, r1), (t2, r2)])
    assert new_run_id(*first) < new_run_id(*second)


@given(st.binary(), st.binary())
def test_digests_are_full_hex_ids_equal_only_for_equal_content(a: bytes, b: bytes) -> None:
    assert is_digest(digest_bytes(a))
    assert short_id(digest_bytes(a)) == digest_bytes(a)[:12]
    assert (digest_bytes(a) == digest_bytes(b)) == (a == b)


# Ids over two hex digits share long prefixes, so ambiguity is common, not a one-in-65536 event.
CROWDED_IDS = st.lists(
    st.text("0a", min_size=64, max_size=64), min_size=1, max_size=30, unique=True
)


def _common_length(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y), len(a))


@given(CROWDED_IDS, st.data())
def test_the_shortest_unique_prefix_resolves_and_a_shared_one_is_ambiguous(
    ids: list[str], data: st.DataObject
) -> None:
    wanted = data.draw(st.sampled_from(ids))
    others = [i for i in ids if i != wanted]
    shared = max((_common_length(wanted, other) for other in others), default=0)
    unique = wanted[: max(shared + 1, 4)]
    assert resolve_prefix(unique.upper(), ids) == wanted
    if shared >= 4:
        with pytest.raises(AmbiguousReference):
            resolve_prefix(wanted[:shared], ids)


@given(st.text())
def test_any_text_resolves_or_raises_a_parity_error(text: str) -> None:
    ids = [digest_bytes(b"a"), digest_bytes(b"b")]
    try:
        resolved: str | ParityError = resolve_prefix(text, ids)
    except ParityError as exc:
        resolved = exc
    assert resolved in ids or isinstance(resolved, UsageError | NotFoundError)
