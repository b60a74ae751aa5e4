"""Users, their API tokens and their grants: who may call a Parity server, and as what."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    false,
)

from parity.store.meta.schema import ColumnReference, metadata

users = Table(
    "users",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("admin", Boolean, nullable=False),
    # argon2id, for the web UI's sign-in; NULL: this user signs in with tokens only.
    Column("password_hash", Text, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("disabled_ms", BigInteger, nullable=True),
)

tokens = Table(
    "tokens",
    metadata,
    # The public half of a token (shown in listings); the secret half is stored only hashed.
    Column("id", String(32), primary_key=True),
    Column("user", String(200), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("role", SmallInteger, nullable=False),
    Column("label", Text, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=True),
    Column("revoked_ms", BigInteger, nullable=True),
    Column("last_used_ms", BigInteger, nullable=True),
    # A web UI session's token (made at sign-in, ended at sign-out or a password change) and,
    # when it was signed in with a token, that token's id: revoking it revokes the session.
    Column("parent_id", String(32), nullable=True),
    Column("session", Boolean, nullable=False, server_default=false()),
    Index("ix_tokens_user", "user"),
    Index("ix_tokens_parent", "parent_id"),
)

grants = Table(
    "grants",
    metadata,
    Column("user", String(200), primary_key=True),
    Column("scope", String(16), primary_key=True),  # "experiment" or "model"
    Column("name", String(200), primary_key=True),
    Column("role", SmallInteger, nullable=False),
)

# Leases that stand in for the database locks a client cannot hold across HTTP requests.
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
)

# Every write a server accepted, with who made it: the server's audit trail. Registry changes
# also keep their own, richer events (``registry_tables.audit_events``).
write_log = Table(
    "write_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time_ms", BigInteger, nullable=False),
    Column("user", String(200), nullable=False),
    Column("token_id", String(32), nullable=True),
    Column("method", String(8), nullable=False),
    Column("path", Text, nullable=False),
    Column("status", SmallInteger, nullable=False),
    Index("ix_write_log_time", "time_ms"),
)

REFERENCE_COLUMNS: tuple[ColumnReference, ...] = ()
PLAIN_COLUMNS: tuple[Column[Any], ...] = (
    users.c.name,
    users.c.password_hash,
    tokens.c.id,
    tokens.c.user,
    tokens.c.secret_hash,
    tokens.c.label,
    tokens.c.parent_id,
    grants.c.user,
    grants.c.scope,
    grants.c.name,
    leases.c.name,
    leases.c.holder,
    write_log.c.user,
    write_log.c.token_id,
    write_log.c.method,
    write_log.c.path,
)
