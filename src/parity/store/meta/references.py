"""Every column of the metadata store that holds an id, and what it names: the table modules'
declarations gathered in one list (see ``parity.store.meta.schema`` for the rule)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column

from parity.store.meta import (
    account_tables,
    data_tables,
    deploy_tables,
    event_tables,
    registry_tables,
    repro_tables,
    schema,
    serving_tables,
    tracking_tables,
)
from parity.store.meta.schema import ColumnReference

_MODULES = (
    schema,
    account_tables,
    data_tables,
    deploy_tables,
    event_tables,
    registry_tables,
    repro_tables,
    serving_tables,
    tracking_tables,
)
REFERENCE_COLUMNS: tuple[ColumnReference, ...] = tuple(
    reference for module in _MODULES for reference in module.REFERENCE_COLUMNS
)
PLAIN_COLUMNS: tuple[Column[Any], ...] = tuple(
    column for module in _MODULES for column in module.PLAIN_COLUMNS
)
