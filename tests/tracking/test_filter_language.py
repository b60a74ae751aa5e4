"""The run filter language (parity.core.run_filter): precedence, values, and its error messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parity.core.errors import UsageError
from parity.core.run_filter import (
    ATTRIBUTES,
    MAX_FILTER_DEPTH,
    OPERATORS,
    PREFIXES,
    And,
    Comparison,
    Expression,
    FilterError,
    Key,
    Not,
    Or,
    SortKey,
    format_filter,
    format_sort,
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


# Properties: a generated filter tree, printed the many ways a person may write it, parses back.
_RAW_NAMES = st.from_regex(r"[\w\-/]+(?:\.[\w\-/]+)*", fullmatch=True)
_QUOTED_NAMES = st.text(st.characters(exclude_characters="`"), min_size=1)
_ALIASES = {
    "metrics": ["metrics", "metric"],
    "params": ["params", "param"],
    "tags": ["tags", "tag"],
    "attributes": ["attributes", "attribute", "attr"],
}


@st.composite
def comparisons(draw: st.DrawFn) -> tuple[Comparison, list[str]]:
    """A comparison and its tokens as written."""
    prefix = draw(st.sampled_from(PREFIXES))
    if prefix == "attributes":
        written_name = draw(st.sampled_from([*ATTRIBUTES, "run_id"]))
        name = "id" if written_name == "run_id" else written_name
        bare = written_name in ATTRIBUTES and draw(st.booleans())
    else:
        quoted = draw(st.booleans())
        name = draw(_QUOTED_NAMES if quoted else _RAW_NAMES)
        written_name, bare = (f"`{name}`" if quoted else name), False
    alias = draw(st.sampled_from(_ALIASES[prefix]))
    alias = draw(st.sampled_from([alias, alias.upper(), alias.title()]))
    key_text = written_name if bare else f"{alias}.{written_name}"
    op = draw(st.sampled_from([o for o in OPERATORS if o != "LIKE" or prefix != "metrics"]))
    written_op = draw(st.sampled_from({"=": ["=", "=="], "!=": ["!=", "<>"]}.get(op, [op])))
    written_op = draw(st.sampled_from(["LIKE", "like"])) if op == "LIKE" else written_op
    value: str | float
    if prefix == "metrics" or (op != "LIKE" and draw(st.booleans())):
        value = draw(st.floats(allow_nan=False, allow_infinity=False))
        written_value = repr(value)
    else:
        value = draw(st.text())
        quote = draw(st.sampled_from(["'", '"']))
        written_value = quote + value.replace(quote, quote * 2) + quote
    return Comparison(Key(prefix, name), op, value), [key_text, written_op, written_value]


@st.composite
def filters(draw: st.DrawFn, depth: int = 3) -> tuple[Expression, list[str]]:
    """A filter tree and its tokens, with keywords in any case and optional parentheses."""
    kind = draw(st.sampled_from(["comparison", "not", "and", "or"] if depth else ["comparison"]))
    expression: Expression
    if kind == "comparison":
        expression, tokens = draw(comparisons())
    elif kind == "not":
        inner, inner_tokens = draw(filters(depth - 1))
        expression = Not(inner)
        tokens = [draw(st.sampled_from(["not", "NOT"])), *_grouped(inner, inner_tokens, Not)]
    else:
        parts = draw(st.lists(filters(depth - 1), min_size=2, max_size=3))
        expression = (
            And(tuple(p for p, _ in parts)) if kind == "and" else Or(tuple(p for p, _ in parts))
        )
        word = draw(st.sampled_from([kind, kind.upper()]))
        tokens = []
        for index, (part, part_tokens) in enumerate(parts):
            tokens += ([word] if index else []) + _grouped(part, part_tokens, type(expression))
    if draw(st.booleans()) and depth == 1:
        tokens = ["(", *tokens, ")"]  # redundant parentheses change nothing
    return expression, tokens


def _grouped(part: Expression, tokens: list[str], parent: type) -> list[str]:
    """Parentheses where precedence needs them: an and/or inside not, and/or inside itself."""
    needs = isinstance(part, Or) or (isinstance(part, And) and parent is not Or)
    return ["(", *tokens, ")"] if needs else tokens


@given(filters(), st.lists(st.sampled_from([" ", "  ", "\t", "\n"]), min_size=1))
def test_a_generated_filter_parses_to_its_tree(
    generated: tuple[Expression, list[str]], spaces: list[str]
) -> None:
    expression, tokens = generated
    text = "".join(token + spaces[i % len(spaces)] for i, token in enumerate(tokens))
    assert parse_filter(text) == expression


@given(
    st.lists(
        st.sampled_from(["metrics.acc", "params.`a b`", "tags.x", "status", "(", ")", "and"])
        | st.sampled_from(["or", "not", "=", "<>", "LIKE", "'it''s'", '"', "1e5", "-.5", "`"])
        | st.text(max_size=5),
        max_size=12,
    ).map(" ".join)
)
def test_any_text_parses_or_is_a_usage_error(text: str) -> None:
    try:
        parsed: Expression | UsageError | None = parse_filter(text)
    except UsageError as exc:
        parsed = exc
    if isinstance(parsed, UsageError):
        assert parsed.hint  # every refusal says how to write it
    else:
        assert parsed is None or isinstance(parsed, Comparison | And | Or | Not)


@given(filters())
def test_a_filter_tree_prints_as_text_that_parses_back_to_it(
    generated: tuple[Expression, list[str]],
) -> None:
    # How a filter reaches a Parity server: the tree, printed, in the query string.
    expression, _ = generated
    assert parse_filter(format_filter(expression)) == expression


def test_sort_keys_print_as_they_parse() -> None:
    for text in ("-metrics.`val loss`", "params.lr", "-attributes.start_time"):
        assert parse_sort(format_sort(parse_sort(text))) == parse_sort(text)
    assert format_filter(None) == ""


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("metrics.acc >", 13),
        ("metrics.acc > 1 params.x = 'a'", 16),
        ("metrics.acc > 0.9 ; drop table runs", 18),
        ("metrcs.acc > 0.9", 0),
        ("metrics.acc = 'high'", 14),
        ("params.x == 1 and (tags.y = 'a'", 31),
    ],
)
def test_a_bad_filter_says_where_it_went_wrong(text: str, position: int) -> None:
    with pytest.raises(FilterError) as info:
        parse_filter(text)
    assert info.value.position == position
    assert info.value.message.endswith(f"at character {position + 1}")


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("(" * 300 + "metrics.acc > 1" + ")" * 300, MAX_FILTER_DEPTH),
        ("not " * 1000 + "metrics.acc > 1", 4 * MAX_FILTER_DEPTH),
        ("(not " * 20 + "metrics.acc > 1" + ")" * 20, 5 * 16),
    ],
)
def test_a_filter_nested_too_deep_is_refused_where_it_goes_too_far(
    text: str, position: int
) -> None:
    with pytest.raises(FilterError) as info:
        parse_filter(text)
    assert info.value.position == position
    assert "nests more than 32 levels" in info.value.message


def test_a_filter_nested_to_the_cap_parses_and_one_too_long_is_refused() -> None:
    nested = "(" * MAX_FILTER_DEPTH + "metrics.acc > 1" + ")" * MAX_FILTER_DEPTH
    assert parse_filter(nested) == Comparison(Key("metrics", "acc"), ">", 1.0)
    with pytest.raises(FilterError) as info:
        parse_filter("metrics.acc > 1 or " * 600 + "metrics.acc > 2")
    assert "more than 10,000" in info.value.message
