"""A parsed run filter and sort keys as one SQLite statement, for the stdlib ``sqlite3`` reader.

The same query ``search.run_query`` builds with SQLAlchemy, written out: each comparison on a
metric, param or tag is ``run_id IN (SELECT run_id FROM <table> WHERE key = ? AND ...)`` over
the same indexes, each sort key a LEFT JOIN on that key with missing values last, and the order
ends with the start time and the run id. Values are always bound, never spliced into the text;
keys and column names come from fixed tables here, never from the filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parity.core.errors import UsageError
from parity.core.run import RunStatus
from parity.core.run_filter import And, Comparison, Expression, Key, Not, Or, SortKey

# Filter attribute → column of ``runs`` (as ``search._ATTRIBUTE_COLUMNS``).
_ATTRIBUTE_COLUMNS = {
    "id": "run_id",
    "name": "name",
    "experiment": "experiment",
    "status": "status",
    "start_time": "start_ms",
    "end_time": "end_ms",
    "user": "user",
    "host": "host",
    "exit_code": "exit_code",
    "parent_id": "parent_id",
    "environment_id": "environment_id",
}
_NUMERIC_ATTRIBUTES = {"start_time", "end_time", "exit_code"}
_KEYED_TABLES = {"metrics": "latest_metrics", "params": "run_params", "tags": "run_tags"}
_OPERATORS = ("=", "!=", "<", "<=", ">", ">=")


def run_ids_statement(
    *,
    experiment: str | None = None,
    expression: Expression | None = None,
    sort: Sequence[SortKey] = (),
    limit: int | None = None,
    deleted: bool = False,
) -> tuple[str, list[Any]]:
    """The statement selecting the ids of matching runs in order, and its parameters."""
    parameters: list[Any] = []
    joins: list[str] = []
    order: list[str] = []
    for index, key in enumerate(sort):
        columns = _sort_columns(key.key, index, joins, parameters)
        direction = "DESC" if key.descending else "ASC"
        order += [f"{column} {direction} NULLS LAST" for column in columns]
    order += ["runs.start_ms DESC", "runs.run_id DESC"]
    where = ["runs.deleted_ms IS NOT NULL" if deleted else "runs.deleted_ms IS NULL"]
    if experiment is not None:
        where.append("runs.experiment = ?")
        parameters.append(experiment)
    if expression is not None:
        where.append(_filter(expression, parameters))
    statement = (
        f"SELECT runs.run_id FROM runs{''.join(joins)} "  # noqa: S608
        f"WHERE {' AND '.join(where)} ORDER BY {', '.join(order)}"
    )
    if limit is not None:
        if limit < 1:
            raise UsageError(f"--limit must be at least 1, got {limit}")
        statement += " LIMIT ?"
        parameters.append(limit)
    return statement, parameters


def _sort_columns(key: Key, index: int, joins: list[str], parameters: list[Any]) -> list[str]:
    if key.prefix == "attributes":
        return [f"runs.{_ATTRIBUTE_COLUMNS[key.name]}"]
    alias = f"sort_{index}"
    joins.append(
        f" LEFT OUTER JOIN {_KEYED_TABLES[key.prefix]} AS {alias}"
        f' ON {alias}.run_id = runs.run_id AND {alias}."key" = ?'
    )
    parameters.append(key.name)
    if key.prefix == "params":
        # Numbers in numeric order first, then the rest as text.
        return [f"{alias}.number", f"{alias}.value"]
    return [f"{alias}.value"]


def _filter(expression: Expression, parameters: list[Any]) -> str:
    if isinstance(expression, And):
        return "(" + " AND ".join(_filter(item, parameters) for item in expression.items) + ")"
    if isinstance(expression, Or):
        return "(" + " OR ".join(_filter(item, parameters) for item in expression.items) + ")"
    if isinstance(expression, Not):
        return f"NOT ({_filter(expression.item, parameters)})"
    return _comparison(expression, parameters)


def _compare(column: str, op: str, value: Any, parameters: list[Any]) -> str:
    parameters.append(value)
    if op == "LIKE":
        # Case-insensitive, as SQLAlchemy's ilike is on every database.
        return f"lower({column}) LIKE lower(?)"
    if op not in _OPERATORS:
        raise ValueError(op)
    return f"{column} {op} ?"


def _as_text(value: str | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _comparison(comparison: Comparison, parameters: list[Any]) -> str:
    key, op, value = comparison.key, comparison.op, comparison.value
    if key.prefix == "attributes":
        return _attribute(key.name, op, value, parameters)
    table = _KEYED_TABLES[key.prefix]
    parameters.append(key.name)
    if key.prefix == "metrics":
        condition = _compare(f"{table}.value", op, value, parameters)
    elif key.prefix == "params":
        numeric = isinstance(value, float) and op != "LIKE"
        column = f"{table}.number" if numeric else f"{table}.value"
        condition = _compare(column, op, value if numeric else _as_text(value), parameters)
    else:
        condition = _compare(f"{table}.value", op, _as_text(value), parameters)
    inner = f'SELECT {table}.run_id FROM {table} WHERE {table}."key" = ? AND {condition}'  # noqa: S608
    return f"runs.run_id IN ({inner})"


def _attribute(name: str, op: str, value: str | float, parameters: list[Any]) -> str:
    column = f"runs.{_ATTRIBUTE_COLUMNS[name]}"
    if name in _NUMERIC_ATTRIBUTES:
        if not isinstance(value, float):
            raise UsageError(
                f"attributes.{name} is a number", hint="start_time and end_time are epoch ms"
            )
        return _compare(column, op, value, parameters)
    text = _as_text(value)
    if name == "status" and op != "LIKE":
        text = RunStatus.parse(text).value
    return _compare(column, op, text, parameters)
