import pytest

from parity.core.errors import AmbiguousReference, NotFoundError, UsageError
from parity.core.ids import digest_bytes, new_run_id, resolve_prefix, run_id_time_ms, short_id


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
