"""A Parity server on a loopback port for tests: uvicorn in a thread, real sockets, real stores.

``team_server`` serves a workspace's stores (SQLite + folder by default, or the PostgreSQL and
S3 URLs given) with one admin user, and yields its URL and tokens of each role.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.core.roles import Role
from parity.server.app import create_app
from parity.server.context import build_context
from parity.server.settings import ServerSettings
from parity.workspace import init_workspace
from tests.serve.live import live_server


@dataclass(frozen=True)
class TeamServer:
    url: str
    tokens: dict[Role, str]  # a token of each role, all of user "admin"
    settings: ServerSettings

    @property
    def admin(self) -> str:
        return self.tokens[Role.ADMIN]

    @property
    def writer(self) -> str:
        return self.tokens[Role.WRITER]

    @property
    def reader(self) -> str:
        return self.tokens[Role.READER]

    def client_environment(self, role: Role = Role.WRITER) -> dict[str, str]:
        """What a client's process needs to use this server."""
        return {"PARITY_SERVER_URL": self.url, "PARITY_TOKEN": self.tokens[role]}


@contextmanager
def team_server(
    folder: Path,
    metadata_url: str | None = None,
    objects_url: str | None = None,
    s3_endpoint_url: str | None = None,
    users: bool = True,
    **options: Any,
) -> Iterator[TeamServer]:
    """Serve the stores of a workspace made in ``folder`` until the block ends; ``options`` are
    more ``ServerSettings`` (allowed hosts, CORS origins, trusted proxies, login limit). Without
    ``users`` the server has none (local mode, with ``local_user``) and ``tokens`` is empty."""
    folder.mkdir(parents=True, exist_ok=True)
    environ = {"PARITY_WORKSPACE": str(folder)}
    for variable, value in (
        ("PARITY_METADATA_URL", metadata_url),
        ("PARITY_OBJECTS_URL", objects_url),
        ("PARITY_S3_ENDPOINT_URL", s3_endpoint_url),
    ):
        if value:
            environ[variable] = value
    workspace, _ = init_workspace(folder, environ=environ)  # creates and migrates the stores
    workspace.close()
    settings = ServerSettings(
        workspace=str(folder),
        metadata_url=metadata_url,
        objects_url=objects_url,
        s3_endpoint_url=s3_endpoint_url,
        **options,
    )
    context = build_context(settings)
    try:
        accounts = context.accounts
        tokens: dict[Role, str] = {}
        if users:
            if not any(user["name"] == "admin" for user in accounts.list_users()):
                accounts.create_user("admin", admin=True)
            tokens = {role: accounts.create_token("admin", role)[0] for role in Role}
        with live_server(create_app(context)) as address:
            yield TeamServer(f"http://{address}", tokens, settings)
    finally:
        context.close()
