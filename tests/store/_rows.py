"""A row of any table naming a given value in one column, for tests over declared columns."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def row_naming(column: sa.Column[Any], value: str) -> dict[str, Any]:
    """A row of ``column``'s table holding ``value`` there and the least the table needs
    elsewhere, so a test can cover every declared column, a future one included."""
    row: dict[str, Any] = {}
    table = column.table
    for other in table.columns:
        if other is column:
            row[other.name] = value
        elif other.nullable and not other.primary_key:
            continue
        elif (
            other.primary_key
            and isinstance(other.type, sa.Integer)
            and len(table.primary_key.columns) == 1
        ):
            continue  # the database numbers it
        elif isinstance(other.type, sa.Boolean):
            row[other.name] = False
        elif isinstance(other.type, (sa.Integer, sa.Numeric, sa.Float)):
            row[other.name] = 1
        elif isinstance(other.type, sa.LargeBinary):
            row[other.name] = b"x"
        else:
            row[other.name] = "x"
    return row
