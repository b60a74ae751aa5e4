"""Compile a parsed run filter and sort keys into one SQLAlchemy Core query over indexed tables.

A metric comparison becomes ``run_id IN (SELECT run_id FROM latest_metrics WHERE key = ? AND
value > ?)``: a range scan of the (key, value, run_id) index, so a selective filter never reads
the other runs. Sorting by a metric, param or tag is a LEFT JOIN on that key, missing values last.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, not_, or_, select

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


def run_query(
    *,
    experiment: str | None = None,
    expression: Expression | None = None,
    sort: Sequence[SortKey] = (),
    limit: int | None = None,
    deleted: bool = False,
) -> Select[tuple[str]]:
    """The ids of matching runs in order. ``deleted`` lists soft-deleted runs instead."""
    query = select(runs.c.run_id)
    query = query.where(runs.c.deleted_ms.is_not(None) if deleted else runs.c.deleted_ms.is_(None))
    if experiment is not None:
        query = query.where(runs.c.experiment == experiment)
    if expression is not None:
        query = query.where(compile_filter(expression))
    order: list[Any] = []
    for index, key in enumerate(sort):
        columns, query = _sort_columns(query, key.key, index)
        order += [(c.desc() if key.descending else c.asc()).nulls_last() for c in columns]
    order += [runs.c.start_ms.desc(), runs.c.run_id.desc()]
    query = query.order_by(*order)
    if limit is not None:
        if limit < 1:
            raise UsageError(f"--limit must be at least 1, got {limit}")
        query = query.limit(limit)
    return query


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
