"""Tables of events: the outbox of what happened, the webhooks that want it, and every attempt
to deliver one to one.

An event row is written in the transaction of the change it tells about (an alias move, a
registered version, a recorded deployment), so no change is ever without its event, and a
process that dies before sending leaves the row for the next delivery round. A webhook row keeps
the name of the environment variable holding its secret, never the secret. Each try at sending
appends a delivery row; a hook has its event when one of them is ``ok``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from parity.store.meta.schema import ColumnReference, metadata

events = Table(
    "events",
    metadata,
    Column("id", String(36), primary_key=True),  # evt_ + 32 hex, time-sortable
    Column("kind", String(64), nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("actor", String(200), nullable=True),
    Column("data", Text, nullable=False),  # JSON object
    # Set once every hook that wanted it has it or has given up on it: rounds skip it.
    Column("settled", Boolean, nullable=False, default=False),
    Index("ix_events_settled_time", "settled", "time_ms"),
    Index("ix_events_kind_time", "kind", "time_ms"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("url", Text, nullable=False),
    Column("kinds", Text, nullable=False),  # comma-separated event kinds
    Column("secret_env", String(128), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
)

event_deliveries = Table(
    "event_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("hook_id", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("status", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_event_deliveries_event", "event_id", "hook_id", "attempt"),
)

REFERENCE_COLUMNS: tuple[ColumnReference, ...] = ()
# Events name models and versions by name and number inside their JSON, never an object by id.
PLAIN_COLUMNS: tuple[Column[Any], ...] = (
    events.c.id,
    events.c.kind,
    events.c.actor,
    events.c.data,
    webhooks.c.id,
    webhooks.c.url,
    webhooks.c.kinds,
    webhooks.c.secret_env,
    webhooks.c.created_by,
    event_deliveries.c.event_id,
    event_deliveries.c.hook_id,
    event_deliveries.c.url,
    event_deliveries.c.error,
)
