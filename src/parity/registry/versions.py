"""The model registry: numbered versions, aliases, locks, and an audit entry for every change.

Every change and its audit entry are written in one transaction, so the trail can never miss a
change that happened. Nothing here updates or deletes an audit entry (the database refuses to).

Every change reads before it writes (is the version locked? where does the alias point now?
which number is next?), so each one first holds its model's row (``SELECT … FOR UPDATE``; on
SQLite the write transaction holds the whole database): changes to one model happen one after
the other, each sees the one before, and the audit trail of a model is a chain in ``sequence``
order. Contention the database still reports (a deadlock, a serialization failure, SQLite busy)
reruns the change, a bounded number of times (``MetadataStore.transact``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from parity.core.errors import ConflictError, NotFoundError, UsageError
from parity.core.model import AuditEvent, ModelVersion
from parity.core.refs import check_version
from parity.registry.promotion import (
    APPROVE,
    GATE,
    REFUSED,
    VERDICT_STATUSES,
    PromotionPolicy,
    PromotionRule,
    Readiness,
    readiness,
)
from parity.registry.reads import resolve_version
from parity.registry.repository import Actor, check_alias, check_name
from parity.store.meta.registry_tables import (
    audit_events,
    model_aliases,
    model_versions,
    registered_models,
)
from parity.store.meta.store import MetadataStore, insert_ignoring_duplicates

__all__ = ["Actor", "Registry"]


class Registry:
    """The registry over a metadata store (SQLite or PostgreSQL): a ``ModelRegistry``."""

    def __init__(
        self,
        meta: MetadataStore,
        clock: Callable[[], int],
        promotion: Callable[[], PromotionPolicy] | None = None,
        on_change: Callable[[Connection, AuditEvent], None] | None = None,
    ) -> None:
        self.meta = meta
        self.clock = clock
        # Read at each alias move (the policy file may change while a server runs).
        self.promotion = promotion or PromotionPolicy
        # Told of every audited change inside its transaction (the events outbox stages the
        # change's event there, so a change is never without its event).
        self.on_change = on_change

    # reading -----------------------------------------------------------------------------------
    def get(self, name: str, version: int) -> ModelVersion:
        with self.meta.read() as connection:
            return self._get(connection, name, version)

    def by_alias(self, name: str, alias: str) -> ModelVersion:
        with self.meta.read() as connection:
            version = self._alias_target(connection, name, alias)
            if version is None:
                self._require_model(connection, name)
                raise NotFoundError(
                    f"model {name!r} has no alias {alias!r}",
                    hint=f"see its aliases with 'parity models show {name}'",
                )
            return self._get(connection, name, version)

    def latest(self, name: str) -> ModelVersion:
        with self.meta.read() as connection:
            self._require_model(connection, name)
            version = connection.execute(
                select(func.max(model_versions.c.version)).where(model_versions.c.name == name)
            ).scalar_one_or_none()
            if version is None:
                raise NotFoundError(f"model {name!r} has no versions left")
            return self._get(connection, name, version)

    def resolve(self, text: str) -> ModelVersion:
        """A model version from ``NAME@ALIAS``, ``NAME/VERSION`` or a bare ``NAME`` (latest)."""
        return resolve_version(self, text)

    def versions(self, name: str) -> list[ModelVersion]:
        with self.meta.read() as connection:
            self._require_model(connection, name)
            rows = connection.execute(
                select(model_versions)
                .where(model_versions.c.name == name)
                .order_by(model_versions.c.version)
            ).all()
            aliases = self._aliases(connection, name)
            return [self._version(row, aliases) for row in rows]

    def models(self) -> list[dict[str, Any]]:
        """Every registered model with its latest version and aliases."""
        with self.meta.read() as connection:
            latest = dict(
                connection.execute(
                    select(model_versions.c.name, func.max(model_versions.c.version)).group_by(
                        model_versions.c.name
                    )
                ).all()
            )
            alias_rows = connection.execute(select(model_aliases)).all()
            names = connection.execute(
                select(registered_models.c.name, registered_models.c.created_ms).order_by(
                    registered_models.c.name
                )
            ).all()
        aliases: dict[str, dict[str, int]] = {}
        for row in alias_rows:
            aliases.setdefault(row.name, {})[row.alias] = row.version
        return [
            {
                "name": name,
                "latest_version": latest.get(name),
                "aliases": aliases.get(name, {}),
                "created_ms": created,
            }
            for name, created in names
        ]

    def history(self, name: str) -> list[AuditEvent]:
        with self.meta.read() as connection:
            rows = connection.execute(
                select(audit_events)
                .where(audit_events.c.name == name)
                .order_by(audit_events.c.sequence)
            ).all()
        if not rows:
            raise NotFoundError(f"no model named {name!r}", hint="list models: parity models list")
        return [self._event(row) for row in rows]

    # changing ----------------------------------------------------------------------------------
    def register(
        self,
        name: str,
        model_id: str,
        actor: Actor,
        run_id: str | None = None,
        description: str | None = None,
        reason: str | None = None,
    ) -> ModelVersion:
        """Create the next version of ``name`` (creating the model on first use)."""
        check_name(name)

        def act(connection: Connection) -> ModelVersion:
            # The model's row is what every change of the model holds: make sure it exists.
            first = {"name": name, "created_ms": self.clock(), "created_by": actor.name}
            insert_ignoring_duplicates(connection, registered_models, [first])
            self._hold(connection, name)
            now = self.clock()
            current = connection.execute(
                select(func.max(model_versions.c.version)).where(model_versions.c.name == name)
            ).scalar_one_or_none()
            last_audited = connection.execute(
                select(func.max(audit_events.c.version)).where(
                    audit_events.c.name == name, audit_events.c.action == "register"
                )
            ).scalar_one_or_none()
            # Numbers are never reused, even after a delete: "churn/3" names one model forever.
            number = max(current or 0, last_audited or 0) + 1
            connection.execute(
                insert(model_versions).values(
                    name=name,
                    version=number,
                    model_id=model_id,
                    run_id=run_id,
                    created_ms=now,
                    created_by=actor.name,
                    locked=False,
                    description=description,
                )
            )
            after = {"model_id": model_id, "run_id": run_id}
            self._audit(connection, name, number, "register", actor, None, after, reason)
            return self._get(connection, name, number)

        return self.meta.transact(act)

    def adopt(self, version: ModelVersion, actor: Actor, reason: str | None = None) -> ModelVersion:
        """Take in a version another registry made, keeping its number, so ``churn/3`` names the
        same model in both (an image's own workspace holds the one version it serves). Nothing
        changes when this registry already has it; another model under that number is refused.
        """
        check_name(version.name)

        def act(connection: Connection) -> ModelVersion:
            first = {
                "name": version.name,
                "created_ms": self.clock(),
                "created_by": actor.name,
            }
            insert_ignoring_duplicates(connection, registered_models, [first])
            self._hold(connection, version.name)
            found = connection.execute(
                select(model_versions.c.model_id).where(
                    model_versions.c.name == version.name,
                    model_versions.c.version == version.version,
                )
            ).scalar_one_or_none()
            if found == version.model_id:
                return self._get(connection, version.name, version.version)
            if found is not None:
                raise ConflictError(
                    f"{version.ref} here is model {found[:12]}, not {version.model_id[:12]}",
                    hint="take it into a workspace of its own",
                )
            # A number this registry used before (the version was deleted) keeps its history:
            # its approvals and gate verdicts must never pass to another model under it.
            used = connection.execute(
                select(audit_events.c.version)
                .where(
                    audit_events.c.name == version.name,
                    audit_events.c.version == version.version,
                )
                .limit(1)
            ).first()
            if used is not None:
                raise ConflictError(
                    f"{version.ref} was a version here before (deleted): its number, and the "
                    "approvals and verdicts recorded for it, are not given to another model",
                    hint="take it into a workspace of its own",
                )
            connection.execute(
                insert(model_versions).values(
                    name=version.name,
                    version=version.version,
                    model_id=version.model_id,
                    run_id=version.run_id,
                    created_ms=version.created_ms,
                    created_by=version.created_by,
                    locked=False,
                    description=version.description,
                )
            )
            after = {"model_id": version.model_id, "run_id": version.run_id}
            name, number = version.name, version.version
            self._audit(connection, name, number, "adopt", actor, None, after, reason)
            return self._get(connection, version.name, version.version)

        return self.meta.transact(act)

    def set_alias(
        self,
        name: str,
        version: int,
        alias: str,
        actor: Actor,
        reason: str | None = None,
        force: bool = False,
    ) -> ModelVersion:
        """Point ``alias`` at ``version``; moving it off a locked version needs an admin's force."""
        check_alias(alias)

        def act(connection: Connection) -> ModelVersion | _Refusal:
            self._hold(connection, name)
            target = self._get(connection, name, version)
            previous = self._alias_target(connection, name, alias)
            if previous == version:
                return target
            forced = False
            if previous is not None:
                holder = self._get(connection, name, previous)
                forced = self._check_unlocked(holder, actor, force, f"move alias {alias!r} off")
            before = {"alias": alias, "version": previous} if previous is not None else None
            after: dict[str, Any] = {"alias": alias, "version": version}
            policy = self.promotion()
            lacking = self._lacking(connection, target, policy.rule(alias))
            if lacking is not None and not (force and actor.admin):
                why = lacking.sentence()
                if force:
                    why = f"only an admin may force: move {alias!r} to {target.ref} ({why})"
                refused = {**after, "refused": why}
                self._audit(connection, name, version, REFUSED, actor, before, refused, reason)
                return _Refusal(why, lacking, forced=force, policy=policy.path)
            if lacking is not None:
                forced, after["bypassed"] = True, lacking.sentence()
            if previous is not None:
                connection.execute(
                    update(model_aliases)
                    .where(model_aliases.c.name == name, model_aliases.c.alias == alias)
                    .values(version=version, updated_ms=self.clock())
                )
            else:
                connection.execute(
                    insert(model_aliases).values(
                        name=name, alias=alias, version=version, updated_ms=self.clock()
                    )
                )
            self._audit(connection, name, version, "alias", actor, before, after, reason, forced)
            return self._get(connection, name, version)

        # A refusal is audited, so its entry commits before it is raised.
        moved = self.meta.transact(act)
        if isinstance(moved, _Refusal):
            raise moved.error(name, alias)
        return moved

    def approve(self, name: str, version: int, actor: Actor, reason: str) -> ModelVersion:
        """Approve ``version`` for promotion as ``actor``: not its registrant (refused and
        audited); approving again changes nothing."""

        def act(connection: Connection) -> ModelVersion | _Refusal:
            self._hold(connection, name)
            target = self._get(connection, name, version)
            if actor.name == target.created_by:
                why = f"{actor.name} registered {target.ref}: approvals must come from others"
                wanted = {"action": APPROVE}
                self._audit(connection, name, version, REFUSED, actor, None, wanted, reason)
                return _Refusal(why)
            done = connection.execute(
                select(audit_events.c.sequence).where(
                    audit_events.c.name == name,
                    audit_events.c.version == version,
                    audit_events.c.action == APPROVE,
                    audit_events.c.actor == actor.name,
                )
            ).first()
            if done is None:
                after = {"approved": True}
                self._audit(connection, name, version, APPROVE, actor, None, after, reason)
            return target

        approved = self.meta.transact(act)
        if isinstance(approved, _Refusal):
            raise ConflictError(
                approved.why,
                hint=f"ask another user to run 'parity models approve {name}/{version} -r WHY'",
            )
        return approved

    def record_verdict(
        self,
        name: str,
        version: int,
        gate: str,
        status: str,
        actor: Actor,
        reason: str | None = None,
    ) -> ModelVersion:
        """Record the verdict (``passed``, ``failed`` or ``error``) of gate ``gate`` on
        ``version``; a promotion policy reads the last one of each gate."""

        if status not in VERDICT_STATUSES or not gate.strip():
            raise UsageError(
                f"cannot record a {status!r} verdict of gate {gate!r}",
                hint=f"a gate has a name and a status: {', '.join(VERDICT_STATUSES)}",
            )

        def act(connection: Connection) -> ModelVersion:
            self._hold(connection, name)
            target = self._get(connection, name, version)
            after = {"gate": gate, "status": status}
            self._audit(connection, name, version, GATE, actor, None, after, reason)
            return target

        return self.meta.transact(act)

    def _lacking(
        self, connection: Connection, target: ModelVersion, rule: PromotionRule | None
    ) -> Readiness | None:
        """What ``target`` lacks by ``rule``, or None (nothing, or no rule)."""
        if rule is None:
            return None
        rows = connection.execute(
            select(audit_events)
            .where(
                audit_events.c.name == target.name,
                audit_events.c.version == target.version,
                audit_events.c.action.in_((APPROVE, GATE)),
            )
            .order_by(audit_events.c.sequence)
        ).all()
        found = readiness(rule, target, [self._event(row) for row in rows])
        return None if found.ok else found

    def remove_alias(
        self, name: str, alias: str, actor: Actor, reason: str | None = None, force: bool = False
    ) -> None:
        def act(connection: Connection) -> None:
            self._hold(connection, name)
            version = self._alias_target(connection, name, alias)
            if version is None:
                raise NotFoundError(f"model {name!r} has no alias {alias!r}")
            holder = self._get(connection, name, version)
            forced = self._check_unlocked(holder, actor, force, f"remove alias {alias!r} from")
            connection.execute(
                delete(model_aliases).where(
                    model_aliases.c.name == name, model_aliases.c.alias == alias
                )
            )
            before = {"alias": alias, "version": version}
            self._audit(connection, name, version, "unalias", actor, before, None, reason, forced)

        self.meta.transact(act)

    def lock(self, name: str, version: int, actor: Actor, reason: str | None = None) -> None:
        self._set_lock(name, version, actor, True, reason)

    def unlock(self, name: str, version: int, actor: Actor, reason: str | None = None) -> None:
        if not actor.admin:
            raise ConflictError(
                f"only an admin may unlock {name}/{version}", hint="ask an admin of this registry"
            )
        self._set_lock(name, version, actor, False, reason)

    def _set_lock(
        self, name: str, version: int, actor: Actor, locked: bool, reason: str | None
    ) -> None:
        def act(connection: Connection) -> None:
            self._hold(connection, name)
            current = self._get(connection, name, version)
            if current.locked == locked:
                return
            connection.execute(
                update(model_versions)
                .where(model_versions.c.name == name, model_versions.c.version == version)
                .values(locked=locked)
            )
            action = "lock" if locked else "unlock"
            before, after = {"locked": current.locked}, {"locked": locked}
            self._audit(connection, name, version, action, actor, before, after, reason)

        self.meta.transact(act)

    def delete(
        self, name: str, version: int, actor: Actor, reason: str | None = None, force: bool = False
    ) -> None:
        """Delete a version; refused while locked or aliased, unless an admin forces it."""

        def act(connection: Connection) -> None:
            self._hold(connection, name)
            current = self._get(connection, name, version)
            forced = self._check_unlocked(current, actor, force, "delete")
            if current.aliases and not force:
                raise ConflictError(
                    f"{current.ref} holds alias {', '.join(current.aliases)}: not deleted",
                    hint="move the alias first (parity models alias), or --force as an admin",
                )
            if current.aliases:
                forced = self._require_admin(actor, f"delete aliased {current.ref}")
            connection.execute(
                delete(model_aliases).where(
                    model_aliases.c.name == name, model_aliases.c.version == version
                )
            )
            connection.execute(
                delete(model_versions).where(
                    model_versions.c.name == name, model_versions.c.version == version
                )
            )
            before = current.to_dict()
            self._audit(connection, name, version, "delete", actor, before, None, reason, forced)

        self.meta.transact(act)

    # helpers -----------------------------------------------------------------------------------
    def _hold(self, connection: Connection, name: str) -> None:
        """Hold model ``name``'s row until the transaction ends, so no other change of the model
        runs between what this one reads and what it writes. Called before any such read: on
        PostgreSQL each later statement then sees what the change before this one committed."""
        held = connection.execute(
            select(registered_models.c.name)
            .where(registered_models.c.name == name)
            .with_for_update()
        ).first()
        if held is None:
            raise NotFoundError(f"no model named {name!r}", hint="list models: parity models list")

    @staticmethod
    def _alias_target(connection: Connection, name: str, alias: str) -> int | None:
        return connection.execute(
            select(model_aliases.c.version).where(
                model_aliases.c.name == name, model_aliases.c.alias == alias
            )
        ).scalar_one_or_none()

    def _check_unlocked(self, version: ModelVersion, actor: Actor, force: bool, what: str) -> bool:
        """Return whether a lock was forced; raise ConflictError when locked and not forced."""
        if not version.locked:
            return False
        if not force:
            raise ConflictError(
                f"{version.ref} is locked: cannot {what} it",
                hint="an admin may pass --force (it is audited), or unlock it first",
            )
        return self._require_admin(actor, f"{what} locked {version.ref}")

    @staticmethod
    def _require_admin(actor: Actor, what: str) -> bool:
        if not actor.admin:
            raise ConflictError(
                f"only an admin may force: {what}", hint="ask an admin of this registry"
            )
        return True

    def _audit(
        self,
        connection: Connection,
        name: str,
        version: int | None,
        action: str,
        actor: Actor,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        reason: str | None,
        forced: bool = False,
    ) -> None:
        # Clocks of different hosts disagree: a model's trail never goes back in time, so an
        # entry is never older than the one before it (the model's row is held, see _hold).
        last = connection.execute(
            select(audit_events.c.time_ms)
            .where(audit_events.c.name == name)
            .order_by(audit_events.c.sequence.desc())
            .limit(1)
        ).scalar_one_or_none()
        time_ms = max(self.clock(), last or 0)
        inserted = connection.execute(
            insert(audit_events).values(
                name=name,
                version=version,
                action=action,
                actor=actor.name,
                time_ms=time_ms,
                before=json.dumps(before, sort_keys=True) if before is not None else None,
                after=json.dumps(after, sort_keys=True) if after is not None else None,
                reason=reason,
                forced=forced,
            )
        )
        if self.on_change is not None:
            key = inserted.inserted_primary_key
            change = AuditEvent(
                sequence=int(key[0]) if key else 0,
                name=name,
                version=version,
                action=action,
                actor=actor.name,
                time_ms=time_ms,
                before=dict(before) if before is not None else None,
                after=dict(after) if after is not None else None,
                reason=reason,
                forced=forced,
            )
            self.on_change(connection, change)

    def _require_model(self, connection: Connection, name: str) -> None:
        found = connection.execute(
            select(registered_models.c.name).where(registered_models.c.name == name)
        ).first()
        if found is None:
            raise NotFoundError(f"no model named {name!r}", hint="list models: parity models list")

    def _get(self, connection: Connection, name: str, version: int) -> ModelVersion:
        check_version(version)
        row = connection.execute(
            select(model_versions).where(
                model_versions.c.name == name, model_versions.c.version == version
            )
        ).first()
        if row is None:
            self._require_model(connection, name)
            raise NotFoundError(
                f"model {name!r} has no version {version}",
                hint=f"list its versions: parity models show {name}",
            )
        return self._version(row, self._aliases(connection, name))

    @staticmethod
    def _aliases(connection: Connection, name: str) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        for alias, version in connection.execute(
            select(model_aliases.c.alias, model_aliases.c.version)
            .where(model_aliases.c.name == name)
            .order_by(model_aliases.c.alias)
        ):
            found.setdefault(version, []).append(alias)
        return found

    @staticmethod
    def _event(row: Row[Any]) -> AuditEvent:
        return AuditEvent(
            sequence=row.sequence,
            name=row.name,
            version=row.version,
            action=row.action,
            actor=row.actor,
            time_ms=row.time_ms,
            before=json.loads(row.before) if row.before else None,
            after=json.loads(row.after) if row.after else None,
            reason=row.reason,
            forced=bool(row.forced),
        )

    @staticmethod
    def _version(row: Row[Any], aliases: Mapping[int, list[str]]) -> ModelVersion:
        return ModelVersion(
            name=row.name,
            version=row.version,
            model_id=row.model_id,
            run_id=row.run_id,
            created_ms=row.created_ms,
            created_by=row.created_by,
            locked=bool(row.locked),
            aliases=tuple(aliases.get(row.version, ())),
            description=row.description,
        )


@dataclass(frozen=True)
class _Refusal:
    """A change refused after its refusal was audited: raised once that entry is committed."""

    why: str
    lacking: Readiness | None = None
    forced: bool = False
    policy: str = "parity.toml"

    def error(self, name: str, alias: str) -> ConflictError:
        if self.forced or self.lacking is None:
            return ConflictError(self.why, hint="ask an admin of this registry")
        ref = self.lacking.ref
        steps = []
        if self.lacking.approvals_needed:
            steps.append(f"another user approves: parity models approve {ref} -r WHY")
        for gate in self.lacking.gates_missing:
            steps.append(
                f"gate {gate!r} passes: parity gate --model {ref} "
                f"(with --policy FILE when {gate!r} is not parity.toml's [gate] name)"
            )
        steps.append(f"the rule: [promote.{alias}] in {self.policy}")
        steps.append("or an admin passes --force (audited)")
        return ConflictError(
            f"cannot move {name}@{alias} to {ref}: {self.why}", hint="; ".join(steps)
        )
