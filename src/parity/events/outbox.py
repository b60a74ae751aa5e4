"""The events outbox in the metadata store: events staged with the change they tell about,
webhooks, and the delivery log.

``stage`` writes an event on the caller's connection, so it commits (or rolls back) with the
registry change or deployment it describes; ``emit`` writes one in a transaction of its own (a
drift alert, which changes nothing else). ``registry_change`` and ``deployment_recorded`` are the
hooks the workspace hands the registry and the deployment ledger. Delivery is
``parity.events.delivery``.
"""

from __future__ import annotations

import builtins
import json
import os
import secrets
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy import Connection, Row, delete, insert, select, update

from parity.core import events as core
from parity.core.deployment import Deployment
from parity.core.errors import NotFoundError, UsageError
from parity.core.events import DeliveryAttempt, Event, EventDeliveries, Webhook
from parity.core.model import AuditEvent
from parity.store.meta.event_tables import event_deliveries, events, webhooks
from parity.store.meta.store import MetadataStore

__all__ = ["EventLedger", "EventOutbox", "new_event_id"]

# Registry audit actions that are events, and the kind they are. An approval (the approvals
# work) is audited as "approve" and becomes a model.approval event by being listed here.
AUDITED_KINDS: dict[str, str] = {
    "register": core.VERSION_REGISTERED,
    "alias": core.ALIAS_MOVED,
    "rollback": core.ALIAS_MOVED,
    "approve": core.APPROVAL,
    "approval": core.APPROVAL,
}
MAX_LISTED = 1000


def new_event_id(now_ms: int) -> str:
    """``evt_`` + 12 hex digits of the time + 20 random: sortable by time, unique."""
    return f"evt_{now_ms & 0xFFFFFFFFFFFF:012x}{secrets.token_hex(10)}"


class EventLedger(Protocol):
    """Events and webhooks, embedded (``EventOutbox``) or through a server
    (``events.remote.RemoteEvents``); the workspace hands out one or the other."""

    def emit(
        self, kind: str, data: Mapping[str, Any], actor: str, event_id: str | None = None
    ) -> Event: ...

    def list(
        self, kind: str | None = None, failed: bool = False, limit: int = 50
    ) -> builtins.list[EventDeliveries]: ...

    def add_hook(
        self, url: str, kinds: tuple[str, ...], secret_env: str, actor: str
    ) -> Webhook: ...

    def hooks(self) -> builtins.list[Webhook]: ...

    def remove_hook(self, hook_id: str) -> Webhook: ...


def _event(row: Row[Any]) -> Event:
    return Event(row.id, row.kind, row.time_ms, json.loads(row.data), row.actor)


def _hook(row: Row[Any]) -> Webhook:
    kinds = tuple(kind for kind in row.kinds.split(",") if kind)
    return Webhook(row.id, row.url, kinds, row.secret_env, row.created_ms, row.created_by)


def _attempt(row: Row[Any]) -> DeliveryAttempt:
    return DeliveryAttempt(
        row.event_id, row.hook_id, row.url, row.attempt, row.time_ms, bool(row.ok), row.status,
        row.error,
    )  # fmt: skip


def check_url(url: str) -> str:
    if (
        not url.startswith(("http://", "https://"))
        or len(url) > 2000
        or any(c.isspace() for c in url)
    ):
        raise UsageError(f"{url!r} is not a webhook URL", hint="give an http:// or https:// URL")
    return url


class EventOutbox:
    """Events, webhooks and deliveries in the metadata database."""

    def __init__(
        self,
        meta: MetadataStore,
        clock: Callable[[], int],
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.meta = meta
        self.clock = clock
        self.environ = os.environ if environ is None else environ
        # Called after an event is staged or emitted: the process delivers it (a command right
        # after its change, a server from its delivery thread).
        self.listeners: builtins.list[Callable[[], None]] = []
        self.staged = 0

    # writing events ----------------------------------------------------------------------------
    def stage(
        self,
        connection: Connection,
        kind: str,
        data: Mapping[str, Any],
        actor: str | None,
        event_id: str | None = None,
    ) -> Event:
        """Write an event on ``connection``: it commits with the caller's transaction."""
        if kind not in core.KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        now = self.clock()
        event = Event(event_id or new_event_id(now), kind, now, dict(data), actor)
        found = connection.execute(select(events.c.id).where(events.c.id == event.id)).first()
        if found is None:  # the same id twice (a client's retried report) is one event
            connection.execute(
                insert(events).values(
                    id=event.id,
                    kind=kind,
                    time_ms=now,
                    actor=actor,
                    data=json.dumps(event.data, sort_keys=True, default=str),
                    settled=False,
                )
            )
        self.staged += 1
        for listener in self.listeners:
            listener()
        return event

    def emit(
        self, kind: str, data: Mapping[str, Any], actor: str, event_id: str | None = None
    ) -> Event:
        """Write an event in a transaction of its own (one that tells of no other change)."""
        if event_id is not None:
            core.check_event_id(event_id)
        return self.meta.transact(lambda c: self.stage(c, kind, data, actor, event_id))

    def registry_change(self, connection: Connection, change: AuditEvent) -> None:
        """The registry's hook: a registered version, a moved alias or an approval is an event."""
        kind = AUDITED_KINDS.get(change.action)
        if kind is None:
            return
        data: dict[str, Any] = {
            "model": change.name,
            "version": change.version,
            "action": change.action,
            "actor": change.actor,
            "reason": change.reason,
            "forced": change.forced,
        }
        if change.version is not None:
            data["ref"] = f"{change.name}/{change.version}"
        if kind == core.ALIAS_MOVED:
            after = change.after or {}
            data["alias"] = after.get("alias")
            data["from_version"] = (change.before or {}).get("version")
            data["rollback"] = (change.reason or "").startswith("rollback: ")
        elif kind == core.VERSION_REGISTERED:
            data.update({k: v for k, v in (change.after or {}).items() if k not in data})
        else:
            data["details"] = dict(change.after or {})
        self.stage(connection, kind, data, change.actor)

    def deployment_recorded(self, connection: Connection, deployment: Deployment) -> None:
        """The deployment ledger's hook: a deployment added at a place is an event."""
        self.stage(
            connection, core.DEPLOYMENT_RECORDED, deployment.to_dict(), deployment.recorded_by
        )

    # reading events ----------------------------------------------------------------------------
    def list(
        self, kind: str | None = None, failed: bool = False, limit: int = 50
    ) -> builtins.list[EventDeliveries]:
        """Events newest first, each with its delivery attempts; ``failed``: only events a hook
        has not had yet after at least one try."""
        limit = max(1, min(limit, MAX_LISTED))
        query = select(events).order_by(events.c.time_ms.desc(), events.c.id.desc())
        if kind is not None:
            if kind not in core.KINDS:
                raise UsageError(
                    f"unknown event kind {kind!r}", hint=f"use one of {', '.join(core.KINDS)}"
                )
            query = query.where(events.c.kind == kind)
        if failed:
            tried = select(event_deliveries.c.event_id).where(event_deliveries.c.ok.is_(False))
            query = query.where(events.c.id.in_(tried.distinct().scalar_subquery()))
        with self.meta.read() as connection:
            found: builtins.list[EventDeliveries] = []
            for row in connection.execute(query):
                listed = EventDeliveries(_event(row), self._attempts(connection, row.id))
                if not failed or listed.failed:
                    found.append(listed)
                if len(found) >= limit:
                    break
            return found

    @staticmethod
    def _attempts(connection: Connection, event_id: str) -> tuple[DeliveryAttempt, ...]:
        rows = connection.execute(
            select(event_deliveries)
            .where(event_deliveries.c.event_id == event_id)
            .order_by(event_deliveries.c.id)
        )
        return tuple(_attempt(row) for row in rows)

    def unsettled(
        self, limit: int = 200
    ) -> builtins.list[tuple[Event, tuple[DeliveryAttempt, ...]]]:
        """Events some hook may still need, oldest first, with their attempts so far."""
        with self.meta.read() as connection:
            rows = connection.execute(
                select(events)
                .where(events.c.settled.is_(False))
                .order_by(events.c.time_ms, events.c.id)
                .limit(limit)
            ).all()
            return [(_event(row), self._attempts(connection, row.id)) for row in rows]

    def settle(self, event_ids: builtins.list[str]) -> None:
        if event_ids:
            with self.meta.write() as connection:
                connection.execute(
                    update(events).where(events.c.id.in_(event_ids)).values(settled=True)
                )

    def log_attempt(self, attempt: DeliveryAttempt) -> None:
        with self.meta.write() as connection:
            connection.execute(insert(event_deliveries).values(**attempt.to_dict()))

    # webhooks ----------------------------------------------------------------------------------
    def add_hook(self, url: str, kinds: tuple[str, ...], secret_env: str, actor: str) -> Webhook:
        """Send events of ``kinds`` to ``url``, signed with the secret in the environment
        variable ``secret_env`` of the delivering process (which must hold it now)."""
        kinds = core.check_kinds(list(kinds))
        core.check_secret_variable(secret_env)
        if not self.environ.get(secret_env):
            raise UsageError(
                f"the environment variable {secret_env} is not set here",
                hint="the process that delivers events signs them with it: set it (to a long "
                "random value the receiver also has) and add the hook again",
            )
        hook = Webhook(
            f"hook_{secrets.token_hex(6)}", check_url(url), kinds, secret_env, self.clock(), actor
        )
        with self.meta.write() as connection:
            connection.execute(
                insert(webhooks).values(
                    id=hook.id,
                    url=hook.url,
                    kinds=",".join(hook.kinds),
                    secret_env=hook.secret_env,
                    created_ms=hook.created_ms,
                    created_by=hook.created_by,
                )
            )
        return hook

    def hooks(self) -> builtins.list[Webhook]:
        with self.meta.read() as connection:
            rows = connection.execute(select(webhooks).order_by(webhooks.c.created_ms))
            return [_hook(row) for row in rows]

    def remove_hook(self, hook_id: str) -> Webhook:
        with self.meta.write() as connection:
            row = connection.execute(select(webhooks).where(webhooks.c.id == hook_id)).first()
            if row is None:
                raise NotFoundError(
                    f"no webhook {hook_id!r}", hint="list them: parity events hooks list"
                )
            connection.execute(delete(webhooks).where(webhooks.c.id == hook_id))
            return _hook(row)
