"""Tracking in team mode for tests: a Parity server that can be stopped and started again on
the same port (a server going down in the middle of a run), users with tokens, and client
workspaces that use it.

``tests.server.live.team_server`` serves a workspace for a whole block; these tests also need
to choose the run store's clock, the caller's user name, and to take the server away and bring
it back while a client keeps its URL.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from parity.core.roles import Role
from parity.server.app import create_app
from parity.server.context import ServerContext, build_context
from parity.server.settings import ServerSettings
from parity.store.http.client import ServerClient
from parity.tracking.remote import RemoteRunStore
from parity.tracking.store import RunStore
from parity.workspace import Workspace, init_workspace, now_ms, open_workspace

# What a client script does until objects and records reach the server (the srv-objects
# branch): start a run without capturing its sources, which need the record store.
RUN_PRELUDE = """
import sys, time
from parity.api._run import Run
from parity.workspace import open_workspace
workspace = open_workspace()
run_id = workspace.runs.create(
    experiment=sys.argv[1], name=sys.argv[2], user=workspace.user, host=None, command=sys.argv
)
run = Run(workspace, run_id, owns_run=True, owns_workspace=True, sources=None)
print(run_id, flush=True)
"""


@dataclass
class Served:
    """A server on a fixed loopback port, serving one workspace's stores."""

    url: str
    context: ServerContext
    port: int
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _tokens: dict[tuple[str, Role], str] = field(default_factory=dict)

    def token(self, user: str = "alice", role: Role = Role.WRITER) -> str:
        """A token of ``user`` (made on first use, an admin for the admin role)."""
        if (user, role) not in self._tokens:
            accounts = self.context.accounts
            if not any(u["name"] == user for u in accounts.list_users()):
                accounts.create_user(user, admin=role is Role.ADMIN)
            self._tokens[(user, role)] = accounts.create_token(user, role)[0]
        return self._tokens[(user, role)]

    def client(self, user: str = "alice", role: Role = Role.WRITER) -> ServerClient:
        return ServerClient(self.url, self.token(user, role))

    def environment(self, user: str = "alice", role: Role = Role.WRITER) -> dict[str, str]:
        """What a client process needs to use this server."""
        return {"PARITY_SERVER_URL": self.url, "PARITY_TOKEN": self.token(user, role)}

    def start(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        config = uvicorn.Config(
            create_app(self.context), log_level="warning", ws="none", lifespan="off"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive(), "the server stopped while starting"
            assert time.monotonic() < deadline, "the server did not start within 30 s"
            time.sleep(0.01)
        self._server, self._thread = server, thread
        self._socket = sock

    def stop(self) -> None:
        """Stop answering: the port refuses connections until ``start``."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._socket.close()
            self._server = self._thread = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(
    folder: Path,
    *,
    metadata_url: str | None = None,
    objects_url: str | None = None,
    s3_endpoint_url: str | None = None,
    clock: Callable[[], int] | None = None,
) -> Iterator[Served]:
    """Serve the stores of a workspace made in ``folder`` (SQLite and a folder by default);
    ``clock`` is the run store's clock when given."""
    folder.mkdir(parents=True, exist_ok=True)
    environ = {"PARITY_WORKSPACE": str(folder)}
    for variable, value in (
        ("PARITY_METADATA_URL", metadata_url),
        ("PARITY_OBJECTS_URL", objects_url),
        ("PARITY_S3_ENDPOINT_URL", s3_endpoint_url),
    ):
        if value:
            environ[variable] = value
    workspace, _ = init_workspace(folder, environ=environ)
    workspace.close()
    settings = ServerSettings(
        workspace=str(folder),
        metadata_url=metadata_url,
        objects_url=objects_url,
        s3_endpoint_url=s3_endpoint_url,
    )
    context = build_context(settings)
    if clock is not None:
        served = context.workspace
        served.__dict__["runs"] = RunStore(served.meta, clock, served.records)
    port = _free_port()
    running = Served(f"http://127.0.0.1:{port}", context, port)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        context.close()


def client_workspace(folder: Path, environment: dict[str, str]) -> Workspace:
    """A workspace in ``folder`` whose stores are the server's (made once, then opened)."""
    if not (folder / ".parity").is_dir():
        made, _ = init_workspace(folder, environ={})
        made.close()
    return open_workspace(folder, environ=environment)


def remote_store(served: Served, clock: Callable[[], int] = now_ms, **who: Any) -> RemoteRunStore:
    return RemoteRunStore(served.client(**who), clock)
