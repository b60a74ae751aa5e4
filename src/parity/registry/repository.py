"""What every model registry offers, embedded or through a server: the ``ModelRegistry`` protocol,
the ``Actor`` of a change, and the rules a model or alias name follows.

``versions.Registry`` (SQL) and ``remote.RemoteRegistry`` (HTTP) both satisfy the protocol; the
workspace hands out one or the other, and nothing above it knows which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from parity.core.errors import UsageError
from parity.core.model import AuditEvent, ModelVersion

# A model or alias name: what the registry accepts, and what a server's paths take.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$"
# An alias is such a name that reads as neither a version number nor "latest".
ALIAS_PATTERN = r"^(?!latest$)(?![0-9]+$)[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$"
_NAME = re.compile(NAME_PATTERN)


@dataclass(frozen=True)
class Actor:
    """Who makes a change. Only admins may ``force`` past a lock or a promotion policy."""

    name: str
    admin: bool = False


def check_name(name: str, what: str = "model name") -> None:
    """Refuse a model (or alias) name the registry cannot hold, saying what it may be."""
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"{name!r} is not a valid {what}",
            hint="use letters, digits, '.', '_' and '-', starting with a letter or digit",
        )


def check_alias(alias: str) -> None:
    """Refuse an alias that would read as a version number or as "latest"."""
    check_name(alias, what="alias")
    if alias.isdigit() or alias == "latest":
        raise UsageError(f"{alias!r} cannot be an alias", hint="pick a word like production")


class ModelRegistry(Protocol):
    """Numbered versions, aliases, locks and the audit trail of every change.

    Changes name their ``actor``; through a server the server's caller is the actor instead
    (the token's user), whatever the client passes.
    """

    def get(self, name: str, version: int) -> ModelVersion: ...

    def by_alias(self, name: str, alias: str) -> ModelVersion: ...

    def latest(self, name: str) -> ModelVersion: ...

    def resolve(self, text: str) -> ModelVersion: ...

    def versions(self, name: str) -> list[ModelVersion]: ...

    def models(self) -> list[dict[str, Any]]: ...

    def history(self, name: str) -> list[AuditEvent]: ...

    def register(
        self,
        name: str,
        model_id: str,
        actor: Actor,
        run_id: str | None = None,
        description: str | None = None,
        reason: str | None = None,
    ) -> ModelVersion: ...

    def set_alias(
        self,
        name: str,
        version: int,
        alias: str,
        actor: Actor,
        reason: str | None = None,
        force: bool = False,
    ) -> ModelVersion: ...

    def remove_alias(
        self, name: str, alias: str, actor: Actor, reason: str | None = None, force: bool = False
    ) -> None: ...

    def lock(self, name: str, version: int, actor: Actor, reason: str | None = None) -> None: ...

    def unlock(self, name: str, version: int, actor: Actor, reason: str | None = None) -> None: ...

    def delete(
        self, name: str, version: int, actor: Actor, reason: str | None = None, force: bool = False
    ) -> None: ...

    def approve(self, name: str, version: int, actor: Actor, reason: str) -> ModelVersion: ...

    def record_verdict(
        self,
        name: str,
        version: int,
        gate: str,
        status: str,
        actor: Actor,
        reason: str | None = None,
    ) -> ModelVersion: ...
