"""Durations as people type them (token lifetimes)."""

from __future__ import annotations

import pytest

from parity.core.durations import parse_duration
from parity.core.errors import UsageError


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("30s", 30_000),
        ("30m", 1_800_000),
        ("12h", 43_200_000),
        ("90d", 7_776_000_000),
        ("2w", 1_209_600_000),
        (" 1d ", 86_400_000),
    ],
)
def test_a_number_and_a_unit_is_a_duration(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize("text", ["", "90", "d", "1.5d", "-1d", "1y", "0d", "3651d", "1 d 2h"])
def test_anything_else_is_refused_with_the_forms_it_takes(text: str) -> None:
    with pytest.raises(UsageError, match="duration") as refused:
        parse_duration(text)
    assert refused.value.hint is not None
