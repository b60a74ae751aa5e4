"""The model registry of a Parity server, over HTTP: a ``ModelRegistry`` like the embedded one.

The server makes every change as the caller its token names, so the ``actor`` a method is given
is not sent: the audit trail names the token's user, and the server (not this client) decides
who may unlock or force. Names are checked here first, so a name the registry would refuse gets
the same error as embedded, without a round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from parity.core.errors import NotFoundError, UsageError
from parity.core.model import AuditEvent, ModelVersion
from parity.core.refs import check_version
from parity.registry.reads import resolve_version
from parity.registry.repository import Actor, check_alias, check_name
from parity.store.http.client import ServerClient, segment

__all__ = ["RemoteRegistry"]


class RemoteRegistry:
    """The registry a Parity server keeps, through ``server`` (a ``ServerClient``)."""

    def __init__(self, server: ServerClient) -> None:
        self.server = server

    # reading -----------------------------------------------------------------------------------
    def get(self, name: str, version: int) -> ModelVersion:
        check_version(version)
        return version_from(self.server.get(f"{_model(name)}/versions/{version}"))

    def by_alias(self, name: str, alias: str) -> ModelVersion:
        path = _model(name)
        if not _is_name(alias):
            raise NotFoundError(
                f"model {name!r} has no alias {alias!r}",
                hint=f"see its aliases with 'parity models show {name}'",
            )
        return version_from(self.server.get(f"{path}/aliases/{segment(alias)}"))

    def latest(self, name: str) -> ModelVersion:
        return version_from(self.server.get(f"{_model(name)}/latest"))

    def resolve(self, text: str) -> ModelVersion:
        """A model version from ``NAME@ALIAS``, ``NAME/VERSION`` or a bare ``NAME`` (latest)."""
        return resolve_version(self, text)

    def versions(self, name: str) -> list[ModelVersion]:
        return [version_from(item) for item in self.server.get(f"{_model(name)}/versions")]

    def models(self) -> list[dict[str, Any]]:
        """Every registered model with its latest version and aliases."""
        found: list[dict[str, Any]] = self.server.get("/models")
        return found

    def history(self, name: str) -> list[AuditEvent]:
        return [event_from(item) for item in self.server.get(f"{_model(name)}/history")]

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
        """Create the next version of ``name``. Not retried: a second try could register twice."""
        check_name(name)
        body = {
            "model_id": model_id,
            "run_id": run_id,
            "description": description,
            "reason": reason,
        }
        return version_from(self.server.post(f"/models/{segment(name)}/versions", body))

    def set_alias(
        self,
        name: str,
        version: int,
        alias: str,
        actor: Actor,
        reason: str | None = None,
        force: bool = False,
    ) -> ModelVersion:
        check_alias(alias)
        check_version(version)
        body = {"version": version, "reason": reason, "force": force}
        return version_from(self.server.put(f"{_model(name)}/aliases/{segment(alias)}", body))

    def remove_alias(
        self, name: str, alias: str, actor: Actor, reason: str | None = None, force: bool = False
    ) -> None:
        path = _model(name)
        if not _is_name(alias):
            raise NotFoundError(f"model {name!r} has no alias {alias!r}")
        self.server.request(
            "DELETE", f"{path}/aliases/{segment(alias)}", json={"reason": reason, "force": force}
        )

    def lock(self, name: str, version: int, actor: Actor, reason: str | None = None) -> None:
        self._change_lock(name, version, "lock", reason)

    def unlock(self, name: str, version: int, actor: Actor, reason: str | None = None) -> None:
        self._change_lock(name, version, "unlock", reason)

    def delete(
        self, name: str, version: int, actor: Actor, reason: str | None = None, force: bool = False
    ) -> None:
        check_version(version)
        self.server.request(
            "DELETE",
            f"{_model(name)}/versions/{version}",
            json={"reason": reason, "force": force},
        )

    def approve(self, name: str, version: int, actor: Actor, reason: str) -> ModelVersion:
        check_version(version)
        # Approving twice leaves one approval: safe to send again.
        path = f"{_model(name)}/versions/{version}/approvals"
        return version_from(self.server.post(path, {"reason": reason}, retry=True))

    def record_verdict(
        self,
        name: str,
        version: int,
        gate: str,
        status: str,
        actor: Actor,
        reason: str | None = None,
    ) -> ModelVersion:
        check_version(version)
        body = {"gate": gate, "status": status, "reason": reason}
        # A verdict sent twice is recorded twice; the last of each gate is what counts.
        path = f"{_model(name)}/versions/{version}/verdicts"
        return version_from(self.server.post(path, body, retry=True))

    def _change_lock(self, name: str, version: int, action: str, reason: str | None) -> None:
        check_version(version)
        # Locking twice leaves one lock and one audit entry: safe to send again.
        self.server.post(
            f"{_model(name)}/versions/{version}/{action}", {"reason": reason}, retry=True
        )


def _is_name(name: str) -> bool:
    try:
        check_name(name)
    except UsageError:
        return False
    return True


def _model(name: str) -> str:
    """The path of model ``name``; a name the registry could never hold names no model."""
    if not _is_name(name):
        raise NotFoundError(f"no model named {name!r}", hint="list models: parity models list")
    return f"/models/{segment(name)}"


def version_from(document: Mapping[str, Any]) -> ModelVersion:
    """A ``ModelVersion`` from the JSON the server answers (``ModelVersion.to_dict``)."""
    return ModelVersion(
        name=str(document["name"]),
        version=int(document["version"]),
        model_id=str(document["model_id"]),
        run_id=document.get("run_id"),
        created_ms=int(document["created_ms"]),
        created_by=str(document["created_by"]),
        locked=bool(document["locked"]),
        aliases=tuple(document.get("aliases") or ()),
        description=document.get("description"),
    )


def event_from(document: Mapping[str, Any]) -> AuditEvent:
    """An ``AuditEvent`` from the JSON the server answers (``AuditEvent.to_dict``)."""
    return AuditEvent(
        sequence=int(document["sequence"]),
        name=str(document["name"]),
        version=document.get("version"),
        action=str(document["action"]),
        actor=str(document["actor"]),
        time_ms=int(document["time_ms"]),
        before=document.get("before"),
        after=document.get("after"),
        reason=document.get("reason"),
        forced=bool(document.get("forced")),
    )
