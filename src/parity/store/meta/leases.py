"""Leases: named locks a client of a Parity server holds across many requests.

A database lock lives as long as a connection, and a client has none; so a server keeps a row
(name, holder, expiry) instead. The holder renews it while it works and deletes it when done; a
holder that dies stops renewing, and once the lease has expired the next taker replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, select, update

from parity.store.meta.account_tables import leases
from parity.store.meta.locks import check_name
from parity.store.meta.store import MetadataStore, insert_ignoring_duplicates


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str  # who holds it now (the asker, when ``held``)
    expires_ms: int
    held: bool  # whether the asker holds it


def take_lease(meta: MetadataStore, name: str, holder: str, until_ms: int, now_ms: int) -> Lease:
    """Take the lease ``name`` for ``holder`` until ``until_ms``, or extend it if ``holder``
    has it; when another holder's lease is still running, report theirs (``held`` False)."""
    check_name(name)

    def act(connection: Connection) -> Lease:
        connection.execute(
            delete(leases).where(leases.c.name == name, leases.c.expires_ms < now_ms)
        )
        insert_ignoring_duplicates(
            connection, leases, [{"name": name, "holder": holder, "expires_ms": until_ms}]
        )
        connection.execute(
            update(leases)
            .where(leases.c.name == name, leases.c.holder == holder)
            .values(expires_ms=until_ms)
        )
        row = connection.execute(
            select(leases.c.holder, leases.c.expires_ms).where(leases.c.name == name)
        ).one()
        return Lease(name, str(row.holder), int(row.expires_ms), row.holder == holder)

    return meta.transact(act)


def release_lease(meta: MetadataStore, name: str, holder: str) -> bool:
    """Give the lease ``name`` up if ``holder`` has it; whether it did."""
    check_name(name)

    def act(connection: Connection) -> bool:
        result = connection.execute(
            delete(leases).where(leases.c.name == name, leases.c.holder == holder)
        )
        return bool(result.rowcount)

    return meta.transact(act)
