"""Compile a parsed run filter and sort keys into one SQLAlchemy Core query over indexed tables.

A metric comparison becomes ``run_id IN (SELECT run_id FROM latest_metrics WHERE key = ? AND
value > ?)``: a range scan of the (key, value, run_id) index, so a selective filter never reads
the other runs. Sorting by a metric, param or tag is a LEFT JOIN on that key, missing values last.

Pages of a search (the server's cursor) are keyset pages: a page starts after the sort values of
the last run of the page before, never at an offset, so runs added meanwhile shift nothing.
The order always ends with the start time and the run id, which makes it total.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, and_, false, not_, or_, select

from parity.core.errors import UsageError
from parity.core.run import RunStatus
from parity.core.run_filter import And, Comparison, Expression, Key, Not, Or, SortKey
from parity.store.meta.tracking_tables import latest_metrics, run_params, run_tags, runs

_ATTRIBUTE_COLUMNS = {
    "id": runs.c.run_id,
    "name": runs.c.name,
    "experiment": runs.c.experiment,
    "status": runs.c.status,
    "start_time": runs.c.start_ms,
    "end_time": runs.c.end_ms,
    "user": runs.c.user,
    "host": runs.c.host,
    "exit_code": runs.c.exit_code,
    "parent_id": runs.c.parent_id,
    "environment_id": runs.c.environment_id,
}
_NUMERIC_ATTRIBUTES = {"start_time", "end_time", "exit_code"}


def _matching(experiment: str | None, expression: Expression | None, deleted: bool) -> Select[Any]:
    query = select(runs.c.run_id)
    query = query.where(runs.c.deleted_ms.is_not(None) if deleted else runs.c.deleted_ms.is_(None))
    if experiment is not None:
        query = query.where(runs.c.experiment == experiment)
    if expression is not None:
        query = query.where(compile_filter(expression))
    return query


def _ordered(
    query: Select[Any], sort: Sequence[SortKey]
) -> tuple[Select[Any], list[tuple[Any, bool]]]:
    """The query joined to what it sorts by, and its order: (column, descending) pairs."""
    order: list[tuple[Any, bool]] = []
    for index, key in enumerate(sort):
        columns, query = _sort_columns(query, key.key, index)
        order += [(column, key.descending) for column in columns]
    order += [(runs.c.start_ms, True), (runs.c.run_id, True)]
    return query, order


def _order_by(order: Sequence[tuple[Any, bool]]) -> list[Any]:
    *keys, (start, _), (run_id, _) = order
    clauses = [(c.desc() if descending else c.asc()).nulls_last() for c, descending in keys]
    return [*clauses, start.desc(), run_id.desc()]


def run_query(
    *,
    experiment: str | None = None,
    expression: Expression | None = None,
    sort: Sequence[SortKey] = (),
    limit: int | None = None,
    deleted: bool = False,
) -> Select[tuple[str]]:
    """The ids of matching runs in order. ``deleted`` lists soft-deleted runs instead."""
    query, order = _ordered(_matching(experiment, expression, deleted), sort)
    query = query.order_by(*_order_by(order))
    if limit is not None:
        if limit < 1:
            raise UsageError(f"--limit must be at least 1, got {limit}")
        query = query.limit(limit)
    return query


def run_page_query(
    *,
    experiment: str | None,
    expression: Expression | None,
    sort: Sequence[SortKey],
    deleted: bool,
    after: Sequence[Any] | None,
    limit: int,
) -> Select[Any]:
    """Rows of (run id, the run's sort values...) in order, from after the sort values
    ``after`` (a row this query gave before) on."""
    query, order = _ordered(_matching(experiment, expression, deleted), sort)
    query = query.add_columns(*(column for column, _ in order))
    if after is not None:
        if len(after) != len(order):
            raise _bad_cursor()
        query = query.where(_after(order, after))
    return query.order_by(*_order_by(order)).limit(limit)


def _after(order: Sequence[tuple[Any, bool]], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows that come after ``values`` in ``order`` (missing values last, either direction):
    equal on the first i columns and after on column i, for some i."""
    alternatives = []
    for index, ((column, descending), value) in enumerate(zip(order, values, strict=True)):
        if value is None:
            continue  # nothing comes after a missing value in this column but other missing ones
        beyond = column < value if descending else column > value
        same = [
            c.is_(None) if v is None else c == v
            for (c, _), v in zip(order[:index], values[:index], strict=True)
        ]
        alternatives.append(and_(*same, or_(beyond, column.is_(None))))
    return or_(*alternatives) if alternatives else false()


@dataclass(frozen=True)
class SearchCursor:
    """Encodes and decodes the cursors of one search: opaque text holding the sort values of
    the last run of a page, and a fingerprint of the search, so that a cursor is only ever
    used with the search that made it."""

    fingerprint: str

    @classmethod
    def of(
        cls,
        experiment: str | None,
        expression: Expression | None,
        sort: Sequence[SortKey],
        deleted: bool,
    ) -> SearchCursor:
        described = repr((experiment, expression, tuple(sort), deleted)).encode()
        return cls(hashlib.sha256(described).hexdigest()[:16])

    def encode(self, values: Sequence[Any]) -> str:
        document = {"v": CURSOR_FORMAT, "q": self.fingerprint, "k": [_tagged(v) for v in values]}
        return base64.urlsafe_b64encode(orjson.dumps(document)).decode().rstrip("=")

    def decode(self, text: str) -> list[Any]:
        try:
            document = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            if document["v"] != CURSOR_FORMAT or document["q"] != self.fingerprint:
                raise _bad_cursor()
            return [_untagged(item) for item in document["k"]]
        except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise _bad_cursor() from None


CURSOR_FORMAT = 1


def _tagged(value: Any) -> list[Any]:
    if value is None:
        return ["n"]
    if isinstance(value, bool | int):
        return ["i", int(value)]
    if isinstance(value, float):
        return ["f", value.hex()]  # exact, and spells the infinities
    return ["s", str(value)]


def _untagged(item: list[Any]) -> Any:
    kind = item[0]
    if kind == "n":
        return None
    if kind == "i":
        return int(item[1])
    if kind == "f":
        return float.fromhex(item[1])
    if kind == "s":
        return str(item[1])
    raise ValueError(kind)


def _bad_cursor() -> UsageError:
    return UsageError(
        "the cursor does not belong to this search",
        hint="ask for the first page again, with the same filter and sort",
    )


def compile_filter(expression: Expression) -> ColumnElement[bool]:
    if isinstance(expression, And):
        return and_(*(compile_filter(item) for item in expression.items))
    if isinstance(expression, Or):
        return or_(*(compile_filter(item) for item in expression.items))
    if isinstance(expression, Not):
        return not_(compile_filter(expression.item))
    return _comparison(expression)


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "LIKE":
        # Case-insensitive on every database (SQLite's LIKE is, PostgreSQL's is not).
        result: ColumnElement[bool] = column.ilike(value)
        return result
    operations = {
        "=": column.__eq__,
        "!=": column.__ne__,
        "<": column.__lt__,
        "<=": column.__le__,
        ">": column.__gt__,
        ">=": column.__ge__,
    }
    compared: ColumnElement[bool] = operations[op](value)
    return compared


def _as_text(value: str | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _comparison(comparison: Comparison) -> ColumnElement[bool]:
    key, op, value = comparison.key, comparison.op, comparison.value
    if key.prefix == "attributes":
        return _attribute(key.name, op, value)
    if key.prefix == "metrics":
        inner = select(latest_metrics.c.run_id).where(
            latest_metrics.c.key == key.name, _compare(latest_metrics.c.value, op, value)
        )
    elif key.prefix == "params":
        numeric = isinstance(value, float) and op != "LIKE"
        column = run_params.c.number if numeric else run_params.c.value
        inner = select(run_params.c.run_id).where(
            run_params.c.key == key.name,
            _compare(column, op, value if numeric else _as_text(value)),
        )
    else:
        inner = select(run_tags.c.run_id).where(
            run_tags.c.key == key.name, _compare(run_tags.c.value, op, _as_text(value))
        )
    return runs.c.run_id.in_(inner)


def _attribute(name: str, op: str, value: str | float) -> ColumnElement[bool]:
    column = _ATTRIBUTE_COLUMNS[name]
    if name in _NUMERIC_ATTRIBUTES:
        if not isinstance(value, float):
            raise UsageError(
                f"attributes.{name} is a number", hint="start_time and end_time are epoch ms"
            )
        return _compare(column, op, value)
    text = _as_text(value)
    if name == "status" and op != "LIKE":
        text = RunStatus.parse(text).value
    return _compare(column, op, text)


def _sort_columns(
    query: Select[tuple[str]], key: Key, index: int
) -> tuple[list[Any], Select[tuple[str]]]:
    if key.prefix == "attributes":
        return [_ATTRIBUTE_COLUMNS[key.name]], query
    table = {"metrics": latest_metrics, "params": run_params, "tags": run_tags}[key.prefix]
    joined = table.alias(f"sort_{index}")
    query = query.outerjoin(
        joined, and_(joined.c.run_id == runs.c.run_id, joined.c.key == key.name)
    )
    if key.prefix == "params":
        # Numbers in numeric order first, then the rest as text.
        return [joined.c.number, joined.c.value], query
    return [joined.c.value], query
