"""What runs where: deployment records in the metadata store, newest per place and model.

A record is appended when CI records a rollout (``parity deploy record``) or a server records
itself on start (``parity serve --record-deployment``). Recording what a place already runs
(same version, same model, same image) changes nothing, so replicas restarting do not pile up
rows, and the newest record of a place and model is what runs there now, since its time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import Connection, Row, func, insert, select

from parity.core.deployment import Deployment, check_place
from parity.core.model import ModelVersion
from parity.store.meta.deploy_tables import deployments
from parity.store.meta.store import MetadataStore

SOURCES = ("record", "serve")


def _deployment(row: Row[Any]) -> Deployment:
    return Deployment(
        place=row.place,
        name=row.name,
        version=row.version,
        model_id=row.model_id,
        image=row.image,
        recorded_ms=row.recorded_ms,
        recorded_by=row.recorded_by,
        source=row.source,
        environment_id=row.environment_id,
        note=row.note,
    )


class DeploymentLedger(Protocol):
    """What runs where, embedded (``DeploymentLog``) or through a server
    (``deploy.remote.RemoteDeploymentLog``); the workspace hands out one or the other."""

    def record(
        self,
        place: str,
        version: ModelVersion,
        environment_id: str | None,
        image: str | None,
        actor: str,
        source: str,
        note: str | None = None,
    ) -> tuple[Deployment, bool]: ...

    def current(self, name: str | None = None, place: str | None = None) -> list[Deployment]: ...

    def history(self, name: str | None = None, place: str | None = None) -> list[Deployment]: ...


class DeploymentLog:
    """The ledger in the metadata database."""

    def __init__(
        self,
        meta: MetadataStore,
        clock: Callable[[], int],
        on_record: Callable[[Connection, Deployment], None] | None = None,
    ) -> None:
        self.meta = meta
        self.clock = clock
        # Told of every deployment added, inside its transaction (the events outbox).
        self.on_record = on_record

    def record(
        self,
        place: str,
        version: ModelVersion,
        environment_id: str | None,
        image: str | None,
        actor: str,
        source: str,
        note: str | None = None,
    ) -> tuple[Deployment, bool]:
        """Record ``version`` running at ``place``; returns the deployment now in force there and
        whether this call added it (False: the place already ran exactly that)."""
        check_place(place)
        if source not in SOURCES:
            raise ValueError(f"unknown deployment source {source!r}")

        def act(connection: Connection) -> tuple[Deployment, bool]:
            current = self._current(connection, place, version.name)
            if (
                current is not None
                and current.version == version.version
                and current.model_id == version.model_id
                and (image is None or current.image == image)
            ):
                return current, False
            connection.execute(
                insert(deployments).values(
                    place=place,
                    name=version.name,
                    version=version.version,
                    model_id=version.model_id,
                    environment_id=environment_id,
                    image=image,
                    source=source,
                    recorded_ms=self.clock(),
                    recorded_by=actor,
                    note=note,
                )
            )
            added = self._current(connection, place, version.name)
            assert added is not None
            if self.on_record is not None:
                self.on_record(connection, added)
            return added, True

        return self.meta.transact(act)

    @staticmethod
    def _current(connection: Connection, place: str, name: str) -> Deployment | None:
        row = connection.execute(
            select(deployments)
            .where(deployments.c.place == place, deployments.c.name == name)
            .order_by(deployments.c.id.desc())
            .limit(1)
        ).first()
        return None if row is None else _deployment(row)

    def current(self, name: str | None = None, place: str | None = None) -> list[Deployment]:
        """What runs now: the newest record of every place and model (of ``name``, at ``place``)."""
        places = (deployments.c.place, deployments.c.name)
        newest = select(func.max(deployments.c.id)).group_by(*places)
        if name is not None:
            newest = newest.where(deployments.c.name == name)
        if place is not None:
            newest = newest.where(deployments.c.place == place)
        query = (
            select(deployments)
            .where(deployments.c.id.in_(newest.scalar_subquery()))
            .order_by(deployments.c.place, deployments.c.name)
        )
        with self.meta.read() as connection:
            return [_deployment(row) for row in connection.execute(query)]

    def history(self, name: str | None = None, place: str | None = None) -> list[Deployment]:
        """Every record, oldest first."""
        query = select(deployments).order_by(deployments.c.id)
        if name is not None:
            query = query.where(deployments.c.name == name)
        if place is not None:
            query = query.where(deployments.c.place == place)
        with self.meta.read() as connection:
            return [_deployment(row) for row in connection.execute(query)]
