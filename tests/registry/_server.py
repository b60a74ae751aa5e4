"""The registry of a live Parity server, as the registry's contract tests use it.

A contract test names the actor of each change (``Actor("alice")``); through a server the actor
is the token's user. ``ActingRegistry`` keeps a token per user and sends each change with the
token of the user its actor names, so the same tests check the server's registry: that the
audit trail names the token's user, and that only an admin's token may unlock or force.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from parity.accounts.store import Accounts
from parity.core.model import MODEL_KIND, AuditEvent, ModelVersion
from parity.core.roles import Role
from parity.registry.remote import RemoteRegistry
from parity.registry.repository import Actor
from parity.store.http.client import ServerClient
from parity.workspace import now_ms, open_workspace
from tests.server.live import TeamServer, team_server

WRITERS = ("alice", "bob", *(f"writer-{n}" for n in range(8)))
ADMINS = ("root", "ada")


@dataclass
class ServedRegistry:
    server: TeamServer
    tokens: dict[str, str]  # user -> a token of theirs (writers: writer role; admins: admin)


def _served_environ(folder: Path, metadata_url: str | None) -> dict[str, str]:
    environ = {"PARITY_WORKSPACE": str(folder)}
    if metadata_url:
        environ["PARITY_METADATA_URL"] = metadata_url
    return environ


@contextmanager
def served_registry(
    folder: Path, model_ids: Iterable[str], metadata_url: str | None = None
) -> Iterator[ServedRegistry]:
    """A team server over ``folder`` (SQLite, or ``metadata_url``) with users alice, bob,
    writer-0..7 (writers), root and ada (admins), and ``model_ids`` indexed as model records, which
    a server requires of a version it registers."""
    with team_server(folder, metadata_url=metadata_url) as server:
        workspace = open_workspace(folder, environ=_served_environ(folder, metadata_url))
        try:
            accounts = Accounts(workspace.meta, now_ms)
            tokens = {}
            for user in (*WRITERS, *ADMINS):
                admin = user in ADMINS
                accounts.create_user(user, admin=admin)
                role = Role.ADMIN if admin else Role.WRITER
                tokens[user] = accounts.create_token(user, role)[0]
            workspace.meta.index_records([(m, MODEL_KIND, now_ms(), None) for m in model_ids])
        finally:
            workspace.close()
        yield ServedRegistry(server, tokens)


class ActingRegistry:
    """A ``ModelRegistry`` over a server that acts as each change's actor (see the module)."""

    def __init__(self, served: ServedRegistry) -> None:
        self._clients = [ServerClient(served.server.url, served.server.reader)]
        self._reader = RemoteRegistry(self._clients[0])
        self._as: dict[str, RemoteRegistry] = {}
        for user, token in served.tokens.items():
            client = ServerClient(served.server.url, token)
            self._clients.append(client)
            self._as[user] = RemoteRegistry(client)

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def acting(self, actor: Actor) -> RemoteRegistry:
        return self._as[actor.name]

    # reading, with a reader's token -------------------------------------------------------------
    def get(self, name: str, version: int) -> ModelVersion:
        return self._reader.get(name, version)

    def by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._reader.by_alias(name, alias)

    def latest(self, name: str) -> ModelVersion:
        return self._reader.latest(name)

    def resolve(self, text: str) -> ModelVersion:
        return self._reader.resolve(text)

    def versions(self, name: str) -> list[ModelVersion]:
        return self._reader.versions(name)

    def models(self) -> list[dict[str, object]]:
        return self._reader.models()

    def history(self, name: str) -> list[AuditEvent]:
        return self._reader.history(name)

    # changing, as the actor ---------------------------------------------------------------------
    def register(
        self,
        name: str,
        model_id: str,
        actor: Actor,
        run_id: str | None = None,
        description: str | None = None,
        reason: str | None = None,
    ) -> ModelVersion:
        return self.acting(actor).register(name, model_id, actor, run_id, description, reason)

    def set_alias(
        self,
        name: str,
        version: int,
        alias: str,
        actor: Actor,
        reason: str | None = None,
        force: bool = False,
    ) -> ModelVersion:
        return self.acting(actor).set_alias(name, version, alias, actor, reason, force)

    def remove_alias(
        self, name: str, alias: str, actor: Actor, reason: str | None = None, force: bool = False
    ) -> None:
        self.acting(actor).remove_alias(name, alias, actor, reason, force)

    def lock(self, name: str, version: int, actor: Actor, reason: str | None = None) -> None:
        self.acting(actor).lock(name, version, actor, reason)

    def unlock(self, name: str, version: int, actor: Actor, reason: str | None = None) -> None:
        self.acting(actor).unlock(name, version, actor, reason)

    def delete(
        self, name: str, version: int, actor: Actor, reason: str | None = None, force: bool = False
    ) -> None:
        self.acting(actor).delete(name, version, actor, reason, force)

    def approve(self, name: str, version: int, actor: Actor, reason: str) -> ModelVersion:
        return self.acting(actor).approve(name, version, actor, reason)

    def record_verdict(
        self,
        name: str,
        version: int,
        gate: str,
        status: str,
        actor: Actor,
        reason: str | None = None,
    ) -> ModelVersion:
        return self.acting(actor).record_verdict(name, version, gate, status, actor, reason)
