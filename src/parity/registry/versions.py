"""The model registry: numbered versions, aliases, locks, and an audit entry for every change.

Every change and its audit entry are written in one transaction, so the trail can never miss a
change that happened. Nothing here updates or deletes an audit entry (the database refuses to).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from parity.core.errors import ConflictError, NotFoundError, UsageError
from parity.core.model import AuditEvent, ModelVersion
from parity.core.refs import RefKind, parse_reference
from parity.store.meta.registry_tables import (
    audit_events,
    model_aliases,
    model_versions,
    registered_models,
)
from parity.store.meta.store import MetadataStore

_MAX_REGISTER_ATTEMPTS = 5


@dataclass(frozen=True)
class Actor:
    """Who makes a change. Only admins may ``force`` past a lock."""

    name: str
    admin: bool = False


class Registry:
    def __init__(self, meta: MetadataStore, clock: Callable[[], int]) -> None:
        self.meta = meta
        self.clock = clock

    # reading -----------------------------------------------------------------------------------
    def get(self, name: str, version: int) -> ModelVersion:
        with self.meta.read() as connection:
            return self._get(connection, name, version)

    def by_alias(self, name: str, alias: str) -> ModelVersion:
        with self.meta.read() as connection:
            version = connection.execute(
                select(model_aliases.c.version).where(
                    model_aliases.c.name == name, model_aliases.c.alias == alias
                )
            ).scalar_one_or_none()
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
        if "@" not in text and "/" not in text:
            return self.latest(text)
        reference = parse_reference(text)
        if reference.kind is RefKind.MODEL_ALIAS:
            return self.by_alias(reference.name or "", reference.alias or "")
        if reference.kind is RefKind.MODEL_VERSION:
            return self.get(reference.name or "", reference.version or 0)
        raise UsageError(
            f"{text!r} does not name a model version", hint="use NAME@ALIAS, NAME/VERSION or NAME"
        )

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
        return [
            AuditEvent(
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
            for row in rows
        ]

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
        _check_name(name)
        for _ in range(_MAX_REGISTER_ATTEMPTS):
            try:
                return self._register(name, model_id, actor, run_id, description, reason)
            except ConflictError:
                continue  # another writer took the same number; take the next one
        raise ConflictError(
            f"could not register a version of {name!r}: too many concurrent registrations",
            hint="try again",
        )

    def _register(
        self,
        name: str,
        model_id: str,
        actor: Actor,
        run_id: str | None,
        description: str | None,
        reason: str | None,
    ) -> ModelVersion:
        now = self.clock()
        with self.meta.write() as connection:
            exists = connection.execute(
                select(registered_models.c.name).where(registered_models.c.name == name)
            ).first()
            if exists is None:
                connection.execute(
                    insert(registered_models).values(
                        name=name, created_ms=now, created_by=actor.name
                    )
                )
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
        _check_name(alias, what="alias")
        if alias.isdigit() or alias == "latest":
            raise UsageError(f"{alias!r} cannot be an alias", hint="pick a word like production")
        with self.meta.write() as connection:
            target = self._get(connection, name, version)
            previous = connection.execute(
                select(model_aliases.c.version).where(
                    model_aliases.c.name == name, model_aliases.c.alias == alias
                )
            ).scalar_one_or_none()
            if previous == version:
                return target
            forced = False
            if previous is not None:
                holder = self._get(connection, name, previous)
                forced = self._check_unlocked(holder, actor, force, f"move alias {alias!r} off")
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
            before = {"alias": alias, "version": previous} if previous is not None else None
            after = {"alias": alias, "version": version}
            self._audit(connection, name, version, "alias", actor, before, after, reason, forced)
            return self._get(connection, name, version)

    def remove_alias(
        self, name: str, alias: str, actor: Actor, reason: str | None = None, force: bool = False
    ) -> None:
        with self.meta.write() as connection:
            version = connection.execute(
                select(model_aliases.c.version).where(
                    model_aliases.c.name == name, model_aliases.c.alias == alias
                )
            ).scalar_one_or_none()
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
        with self.meta.write() as connection:
            current = self._get(connection, name, version)
            if current.locked == locked:
                return
            connection.execute(
                update(model_versions)
                .where(model_versions.c.name == name, model_versions.c.version == version)
                .values(locked=locked)
            )
            action = "lock" if locked else "unlock"
            self._audit(
                connection,
                name,
                version,
                action,
                actor,
                {"locked": current.locked},
                {"locked": locked},
                reason,
            )

    def delete(
        self, name: str, version: int, actor: Actor, reason: str | None = None, force: bool = False
    ) -> None:
        """Delete a version; refused while locked or aliased, unless an admin forces it."""
        with self.meta.write() as connection:
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

    # helpers -----------------------------------------------------------------------------------
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
        connection.execute(
            insert(audit_events).values(
                name=name,
                version=version,
                action=action,
                actor=actor.name,
                time_ms=self.clock(),
                before=json.dumps(before, sort_keys=True) if before is not None else None,
                after=json.dumps(after, sort_keys=True) if after is not None else None,
                reason=reason,
                forced=forced,
            )
        )

    def _require_model(self, connection: Connection, name: str) -> None:
        found = connection.execute(
            select(registered_models.c.name).where(registered_models.c.name == name)
        ).first()
        if found is None:
            raise NotFoundError(f"no model named {name!r}", hint="list models: parity models list")

    def _get(self, connection: Connection, name: str, version: int) -> ModelVersion:
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


def _check_name(name: str, what: str = "model name") -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}", name):
        raise UsageError(
            f"{name!r} is not a valid {what}",
            hint="use letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
