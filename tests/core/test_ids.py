import uuid

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from parity.core.errors import AmbiguousReference, NotFoundError, ParityError, UsageError
from parity.core.ids import (
    RUN_PREFIX_LENGTH,
    digest_bytes,
    is_digest,
    new_run_id,
    resolve_prefix,
    short_id,
    shortest_unique_prefixes,
    unique_prefix,
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


def test_run_ids_sort_by_time_and_start_with_their_second() -> None:
    first = new_run_id(1_700_000_000_000, bytes(12))
    later = new_run_id(1_700_000_001_000, b"\xff" * 12)
    assert first < later
    assert len(first) == 32
    assert first[12] == "8"  # the UUID version nibble
    assert int(first[:RUN_PREFIX_LENGTH], 16) == 1_700_000_000


def test_run_id_needs_twelve_random_bytes() -> None:
    with pytest.raises(ValueError, match="12 bytes"):
        new_run_id(0, b"short")


def test_runs_started_seconds_apart_differ_within_eight_characters() -> None:
    # Under UUIDv7 the first 8 characters were the top of the millisecond clock: runs started
    # within the same ~65 s shared them ("01a2418f matches 2 runs").
    ids = [new_run_id(1_700_000_000_000 + 1000 * s, bytes(12)) for s in range(0, 60, 3)]
    assert len({run_id[:RUN_PREFIX_LENGTH] for run_id in ids}) == len(ids)
    prefixes = shortest_unique_prefixes(ids, RUN_PREFIX_LENGTH)
    assert {len(prefix) for prefix in prefixes.values()} == {RUN_PREFIX_LENGTH}
    for run_id, prefix in prefixes.items():
        assert resolve_prefix(prefix, ids, "run") == run_id


def test_runs_started_in_the_same_second_differ_in_their_random_part() -> None:
    import os

    sweep = [new_run_id(1_700_000_000_123, os.urandom(12)) for _ in range(20)]
    prefixes = shortest_unique_prefixes(sweep, RUN_PREFIX_LENGTH)
    # 16 random bits follow the second: 20 runs are told apart within a few characters.
    assert max(len(prefix) for prefix in prefixes.values()) <= RUN_PREFIX_LENGTH + 4
    for run_id, prefix in prefixes.items():
        assert resolve_prefix(prefix, sweep, "run") == run_id


def test_an_ambiguous_prefix_names_each_match_by_a_prefix_that_picks_it() -> None:
    ids = ["6650c1f3aa11", "6650c1f3ab22", "6650c1f3b000"]
    with pytest.raises(AmbiguousReference) as info:
        resolve_prefix("6650c1f3", ids, "run")
    assert info.value.message == "6650c1f3 matches 3 runs (6650c1f3aa, 6650c1f3ab, 6650c1f3b)"


def test_the_unique_prefix_is_never_shorter_than_asked() -> None:
    assert unique_prefix("abcdef12", [], minimum=6) == "abcdef"
    assert unique_prefix("abcdef12", ["abcdef99", "abcdef12"], minimum=4) == "abcdef1"


# Properties.
MILLIS = st.integers(min_value=0, max_value=2**32 * 1000 - 1)
RANDOM_BITS = st.binary(min_size=12, max_size=12)


@given(MILLIS, RANDOM_BITS)
def test_a_run_id_is_a_uuid8_that_carries_its_second(now_ms: int, random_bits: bytes) -> None:
    run_id = new_run_id(now_ms, random_bits)
    parsed = uuid.UUID(hex=run_id)
    assert parsed.hex == run_id
    assert parsed.version == 8
    assert parsed.variant == uuid.RFC_4122
    assert int(run_id[:8], 16) == now_ms // 1000


@given(MILLIS, MILLIS, RANDOM_BITS, RANDOM_BITS)
def test_a_run_id_of_a_later_second_sorts_later_whatever_its_randomness(
    t1: int, t2: int, r1: bytes, r2: bytes
) -> None:
    assume(t1 // 1000 != t2 // 1000)
    first, second = sorted([(t1, r1), (t2, r2)])
    assert new_run_id(*first) < new_run_id(*second)


@given(st.lists(st.text("0a1", min_size=8, max_size=12), min_size=1, max_size=30, unique=True))
def test_each_shortest_unique_prefix_names_its_id_alone(ids: list[str]) -> None:
    prefixes = shortest_unique_prefixes(ids, 4)
    for value, prefix in prefixes.items():
        assert value.startswith(prefix)
        others = [i for i in ids if i != value and i.startswith(prefix)]
        # Unique, unless another id is itself a prefix of this one (then the whole id is shown).
        assert not others or prefix == value
        if len(prefix) > 4 and prefix != value:
            shorter = prefix[:-1]
            assert any(i != value and i.startswith(shorter) for i in ids)


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
