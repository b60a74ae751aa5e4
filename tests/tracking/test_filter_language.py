"""The run filter language (parity.core.run_filter): precedence, values, and its error messages."""

from __future__ import annotations

import pytest

from parity.core.errors import UsageError
from parity.core.run_filter import (
    And,
    Comparison,
    Key,
    Not,
    Or,
    SortKey,
    parse_filter,
    parse_key,
    parse_sort,
)

ACC = Comparison(Key("metrics", "acc"), ">", 0.9)
RF = Comparison(Key("params", "model"), "=", "rf")


def test_and_binds_tighter_than_or() -> None:
    parsed = parse_filter("metrics.acc > 0.9 and params.model = 'rf' or tags.stage = 'prod'")
    assert parsed == Or((And((ACC, RF)), Comparison(Key("tags", "stage"), "=", "prod")))


def test_parentheses_and_not() -> None:
    parsed = parse_filter("not (metrics.acc > 0.9 or params.model = 'rf') and NOT tags.x != 'y'")
    assert parsed == And((Not(Or((ACC, RF))), Not(Comparison(Key("tags", "x"), "!=", "y"))))


def test_values_operators_and_quoting() -> None:
    parsed = parse_filter(
        "params.name LIKE 'it''s%' and metrics.`val loss` <= -1.5e-3 and tags.t == \"a\""
    )
    assert parsed == And(
        (
            Comparison(Key("params", "name"), "LIKE", "it's%"),
            Comparison(Key("metrics", "val loss"), "<=", -1.5e-3),
            Comparison(Key("tags", "t"), "=", "a"),
        )
    )
    assert parse_filter("metrics.acc>0.9") == ACC
    assert parse_filter("metric.loss.train < 1") == Comparison(
        Key("metrics", "loss.train"), "<", 1.0
    )
    assert parse_filter("attributes.run_id = 'ab'") == Comparison(
        Key("attributes", "id"), "=", "ab"
    )
    assert parse_filter("  ") is None


def test_unknown_prefix_lists_the_valid_ones() -> None:
    with pytest.raises(UsageError) as info:
        parse_filter("metrcs.acc > 0.9")
    assert "unknown key prefix 'metrcs'" in info.value.message
    assert info.value.hint == "keys start with metrics., params., tags., attributes."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.acc >", "it ends too early"),
        ("metrics.acc 0.9", "expected a comparison"),
        ("(metrics.acc > 1", "ends too early"),
        ("metrics.acc > 1 params.x = 'a'", "unexpected 'params.x'"),
        ("metrics.acc = 'high'", "is a number"),
        ("params.x LIKE 3", "LIKE needs a quoted pattern"),
        ("attributes.colour = 'red'", "unknown attribute 'colour'"),
        ("metrics.acc > 0.9 ; drop table runs", "cannot read the filter"),
    ],
)
def test_bad_filters_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_filter(text)


def test_sort_keys() -> None:
    assert parse_sort("-metrics.acc") == SortKey(Key("metrics", "acc"), descending=True)
    assert parse_sort("params.lr") == SortKey(Key("params", "lr"))
    assert parse_sort("start_time") == SortKey(Key("attributes", "start_time"))
    assert parse_key("attr.status") == Key("attributes", "status")
    with pytest.raises(UsageError, match="has no key prefix"):
        parse_sort("acc")
