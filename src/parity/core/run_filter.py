"""The run filter language, parsed by hand into a small tree the search compiles to SQL.

    metrics.acc > 0.9 and params.model = 'rf'
    not (tags.stage = 'dev' or attributes.status != 'finished')
    params.optimizer LIKE 'ada%'

Keys are ``metrics.KEY``, ``params.KEY``, ``tags.KEY`` or ``attributes.NAME``; a key with
unusual characters is quoted with backticks (``metrics.`val loss```). Values are numbers or quoted
strings. ``and`` binds tighter than ``or``; ``not`` tighter than both; parentheses group.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from parity.core.errors import UsageError

Prefix = Literal["metrics", "params", "tags", "attributes"]
PREFIXES: tuple[Prefix, ...] = ("metrics", "params", "tags", "attributes")
_PREFIX_ALIASES: dict[str, Prefix] = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "tag": "tags",
    "tags": "tags",
    "attribute": "attributes",
    "attributes": "attributes",
    "attr": "attributes",
}
# The run's own columns a filter or sort may name.
ATTRIBUTES = (
    "id",
    "name",
    "experiment",
    "status",
    "start_time",
    "end_time",
    "user",
    "host",
    "exit_code",
    "parent_id",
    "environment_id",
)
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "LIKE")
_SYNONYMS = {"==": "=", "<>": "!="}
_HINT = "keys start with " + ", ".join(f"{p}." for p in PREFIXES)
# Bounds on what a filter may ask: its parser and its SQL recurse once per level of nesting
# (parentheses, ``not``), so without a cap a hostile filter exhausts Python's stack.
MAX_FILTER_LENGTH = 10_000
MAX_FILTER_DEPTH = 32

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
    | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
    | (?P<op><=|>=|!=|<>|==|=|<|>)
    | (?P<paren>[()])
    | (?P<word>(?:[A-Za-z_][\w\-/]*|`[^`]+`)(?:\.(?:[\w\-/]+|`[^`]+`))*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Key:
    prefix: Prefix
    name: str

    def __str__(self) -> str:
        return f"{self.prefix}.{self.name}"


@dataclass(frozen=True)
class Comparison:
    key: Key
    op: str  # one of OPERATORS
    value: str | float


@dataclass(frozen=True)
class And:
    items: tuple[Expression, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expression, ...]


@dataclass(frozen=True)
class Not:
    item: Expression


Expression = Comparison | And | Or | Not


@dataclass(frozen=True)
class SortKey:
    key: Key
    descending: bool = False


def parse_key(text: str) -> Key:
    """``metrics.acc`` -> Key("metrics", "acc"); a bare attribute name is allowed too."""
    prefix_text, dot, rest = text.partition(".")
    if not dot:
        if text in ATTRIBUTES:
            return Key("attributes", text)
        raise UsageError(f"{text!r} has no key prefix", hint=_HINT)
    prefix = _PREFIX_ALIASES.get(prefix_text.lower())
    if prefix is None:
        raise UsageError(f"unknown key prefix {prefix_text!r} in {text!r}", hint=_HINT)
    name = rest[1:-1] if rest.startswith("`") and rest.endswith("`") else rest
    if not name:
        raise UsageError(f"{text!r} names no key", hint=_HINT)
    if prefix == "attributes":
        name = "id" if name == "run_id" else name
        if name not in ATTRIBUTES:
            raise UsageError(
                f"unknown attribute {name!r}", hint="attributes are " + ", ".join(ATTRIBUTES)
            )
    return Key(prefix, name)


def parse_sort(text: str) -> SortKey:
    """``-metrics.acc`` sorts by accuracy, highest first; ``start_time`` oldest first."""
    text = text.strip()
    descending = text.startswith("-")
    return SortKey(parse_key(text.lstrip("-+").strip()), descending)


def parse_filter(text: str) -> Expression | None:
    """The tree of a filter expression; None for an empty filter.

    A filter longer than ``MAX_FILTER_LENGTH`` characters, or nesting parentheses and ``not``
    deeper than ``MAX_FILTER_DEPTH``, is refused with the position where it went too far.
    """
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(
            f"the filter is {len(text):,} characters long, more than {MAX_FILTER_LENGTH:,}",
            MAX_FILTER_LENGTH,
            hint="shorten it",
        )
    tokens = _tokenize(text)
    if not tokens:
        return None
    parser = _Parser(tokens, text)
    expression = parser.or_expression()
    if parser.position < len(tokens):
        parser.fail(f"unexpected {tokens[parser.position][1]!r}")
    return expression


_PLAIN_NAME = re.compile(r"[\w\-/]+(?:\.[\w\-/]+)*", re.ASCII)


def format_key(key: Key) -> str:
    """``key`` as a filter spells it (backticks around a name with spaces)."""
    name = key.name if _PLAIN_NAME.fullmatch(key.name) else f"`{key.name}`"
    return f"{key.prefix}.{name}"


def format_sort(sort: SortKey) -> str:
    return ("-" if sort.descending else "") + format_key(sort.key)


def format_filter(expression: Expression | None) -> str:
    """The text of a filter tree: ``parse_filter(format_filter(e)) == e``."""
    if expression is None:
        return ""
    if isinstance(expression, Comparison):
        value = expression.value
        if isinstance(value, str):
            shown = "'" + value.replace("'", "''") + "'"
        elif value in (math.inf, -math.inf):
            shown = "1e999" if value > 0 else "-1e999"
        else:
            shown = repr(value)
        return f"{format_key(expression.key)} {expression.op} {shown}"
    if isinstance(expression, Not):
        return f"not {_grouped(expression.item)}"
    joiner = " and " if isinstance(expression, And) else " or "
    return joiner.join(_grouped(item) for item in expression.items)


def _grouped(expression: Expression) -> str:
    text = format_filter(expression)
    return f"({text})" if isinstance(expression, And | Or) else text


def keys_of(expression: Expression | None) -> list[Key]:
    """The keys an expression compares, in order of appearance, each once."""
    if expression is None:
        return []
    if isinstance(expression, Comparison):
        return [expression.key]
    items = (expression.item,) if isinstance(expression, Not) else expression.items
    return list(dict.fromkeys(key for item in items for key in keys_of(item)))


class FilterError(UsageError):
    """A filter that does not parse; ``position`` is the 0-based offset where reading stopped,
    and the message names it 1-based ("at character N"), as an editor counts."""

    def __init__(self, message: str, position: int, hint: str | None = None) -> None:
        super().__init__(f"{message} at character {position + 1}", hint)
        self.position = position


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            start = position + len(text[position:]) - len(text[position:].lstrip())
            raise FilterError(
                f"cannot read the filter at {text[position:].strip()[:20]!r}",
                start,
                hint="compare keys with =, !=, <, <=, >, >= or LIKE; quote strings with '…'",
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.position = 0
        self.depth = 0  # the parentheses and ``not`` around the token being read

    def nest(self, at: int) -> None:
        """Enter one level of nesting at the token numbered ``at``; refused past the cap."""
        self.depth += 1
        if self.depth > MAX_FILTER_DEPTH:
            self.fail(f"it nests more than {MAX_FILTER_DEPTH} levels of parentheses and 'not'", at)

    def fail(self, message: str, at: int | None = None) -> None:
        """Raise for the token at index ``at`` (default: the one being read)."""
        index = self.position if at is None else at
        offset = self.tokens[index][2] if index < len(self.tokens) else len(self.text.rstrip())
        raise FilterError(
            f"bad filter {self.text!r}: {message}",
            offset,
            hint="write it like: metrics.acc > 0.9 and params.model = 'rf'",
        )

    def peek_word(self) -> str | None:
        if self.position < len(self.tokens) and self.tokens[self.position][0] == "word":
            return self.tokens[self.position][1].lower()
        return None

    def take(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            self.fail("it ends too early")
        kind, text, _ = self.tokens[self.position]
        self.position += 1
        return kind, text

    def or_expression(self) -> Expression:
        items = [self.and_expression()]
        while self.peek_word() == "or":
            self.position += 1
            items.append(self.and_expression())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expression(self) -> Expression:
        items = [self.not_expression()]
        while self.peek_word() == "and":
            self.position += 1
            items.append(self.not_expression())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expression(self) -> Expression:
        if self.peek_word() == "not":
            self.nest(self.position)
            self.position += 1
            item = self.not_expression()
            self.depth -= 1
            return Not(item)
        return self.primary()

    def primary(self) -> Expression:
        start = self.position
        kind, text = self.take()
        if kind == "paren" and text == "(":
            self.nest(start)
            inner = self.or_expression()
            closing = self.take()
            if closing != ("paren", ")"):
                self.fail("a '(' is never closed", start)
            self.depth -= 1
            return inner
        if kind != "word" or text.lower() in ("and", "or", "not"):
            self.fail(f"expected a key such as metrics.acc, got {text!r}", start)
        try:
            key = parse_key(text)
        except UsageError as exc:
            raise FilterError(exc.message, self.tokens[start][2], exc.hint) from None
        op_kind, op = self.take()
        if op_kind == "word" and op.upper() == "LIKE":
            op = "LIKE"
        elif op_kind == "op":
            op = _SYNONYMS.get(op, op)
        else:
            self.fail(f"expected a comparison after {text}, got {op!r}", self.position - 1)
        value_kind, raw = self.take()
        value: str | float
        if value_kind == "number":
            value = float(raw)
        elif value_kind == "string":
            value = raw[1:-1].replace(raw[0] * 2, raw[0])
        else:
            self.fail(
                f"expected a number or a quoted string after {text} {op}, got {raw!r}",
                self.position - 1,
            )
            raise AssertionError  # unreachable: fail raises
        if op == "LIKE" and not isinstance(value, str):
            self.fail("LIKE needs a quoted pattern", self.position - 1)
        if key.prefix == "metrics" and isinstance(value, str):
            self.fail(f"{key} is a number: compare it with a number", self.position - 1)
        return Comparison(key, op, value)
