"""Start a Parity server, or migrate its database: what ``parity server start`` and ``parity
server migrate`` do.

Everything that can refuse a start is checked here, in the one process, before uvicorn binds
workers: a database at another schema (exit 4, naming 'parity server migrate'), a host other
than loopback while the database has no users. Each worker then builds the app itself from the
settings this process leaves in the environment (``settings.OPTIONS_VARIABLE``).
"""

from __future__ import annotations

import copy
import getpass
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from parity.accounts.store import Accounts
from parity.core.config import masked_url
from parity.core.errors import UsageError
from parity.server.context import check_schema, open_served_workspace
from parity.server.settings import OPTIONS_VARIABLE, ServerSettings
from parity.store.meta.store import open_metadata_store
from parity.workspace import now_ms, open_workspace

# Seconds a stopping worker lets requests in flight finish before it closes their connections.
_GRACEFUL_STOP_S = 10


@dataclass(frozen=True)
class Listening:
    """What a started server tells the person who started it."""

    url: str
    workspace: str
    metadata_url: str  # passwords masked
    objects_url: str
    workers: int
    # Set when the database has no users: every caller on this machine acts as this admin.
    local_user: str | None
    # Bound to every address with no --allowed-host: any Host header is answered.
    any_host: bool = False


@dataclass(frozen=True)
class Migration:
    """A database brought to this Parity's schema: its revisions before and after."""

    url: str
    before: tuple[str, ...]
    after: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return self.before != self.after


def settings_for(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    metadata_url: str | None = None,
    objects_url: str | None = None,
    s3_endpoint_url: str | None = None,
    allowed_hosts: Sequence[str] = (),
    cors_origins: Sequence[str] = (),
    trusted_proxies: Sequence[str] = (),
    user_header: str | None = None,
    secure_cookies: bool = False,
    workspace: Path | None = None,
    advisories: Path | None = None,
) -> ServerSettings:
    """The settings of a server for the workspace around ``workspace`` (default: the current
    folder, or ``PARITY_WORKSPACE``); the URLs given replace the workspace's own."""
    if user_header and not trusted_proxies:
        raise UsageError(
            "--user-header needs --trusted-proxy",
            hint="name the proxies allowed to set it, e.g. --trusted-proxy 10.0.0.0/8",
        )
    with open_workspace(workspace) as found:
        root = str(found.root)
    return ServerSettings(
        workspace=root,
        host=host,
        port=port,
        metadata_url=metadata_url,
        objects_url=objects_url,
        s3_endpoint_url=s3_endpoint_url,
        allowed_hosts=tuple(allowed_hosts),
        cors_origins=tuple(cors_origins),
        trusted_proxies=tuple(trusted_proxies),
        user_header=user_header,
        secure_cookies=secure_cookies,
        advisories=None if advisories is None else str(advisories.resolve()),
    )


def prepare(settings: ServerSettings) -> tuple[ServerSettings, Listening]:
    """Check ``settings`` against the stores before any worker starts, and settle local mode:
    a database without users is served on loopback only, every caller acting as this OS user."""
    workspace = open_served_workspace(settings)
    try:
        check_schema(workspace)
        has_users = Accounts(workspace.meta_unmigrated, now_ms).has_users()
        metadata_url = workspace.meta_unmigrated.url
        objects_url = masked_url(workspace.objects_url)
    finally:
        workspace.close()
    local_user = None
    if not has_users:
        if not settings.loopback:
            raise UsageError(
                f"refusing to listen on {settings.host}: this server has no users yet, so "
                "anyone who reached it would be its admin",
                hint="create the first admin on this host with 'parity server user create "
                "NAME --admin', then start again; or keep --host 127.0.0.1",
            )
        local_user = getpass.getuser()
    settings = replace(settings, local_user=local_user)
    listening = Listening(
        url=_url(settings.host, settings.port),
        workspace=settings.workspace,
        metadata_url=metadata_url,
        objects_url=objects_url,
        workers=1,
        local_user=local_user,
        any_host="*" in settings.hosts(),
    )
    return settings, listening


def start(
    settings: ServerSettings,
    *,
    workers: int = 1,
    access_log: bool = False,
    on_listening: Callable[[Listening], None] | None = None,
) -> None:
    """Serve until stopped (Ctrl-C, SIGTERM) with ``workers`` processes on one socket;
    ``on_listening`` hears once the socket is bound (``port`` 0: the system picks one)."""
    if workers < 1:
        raise UsageError(f"--workers {workers} is not a number of processes", hint="give 1 or more")
    settings, listening = prepare(settings)
    import uvicorn  # lazy: uvicorn loads only to serve
    from uvicorn.supervisors import Multiprocess  # lazy: as above

    sock = _bind(settings.host, settings.port)
    port = int(sock.getsockname()[1])
    settings = replace(settings, port=port)
    # Every worker process (spawned, not forked) builds the app from these settings.
    os.environ[OPTIONS_VARIABLE] = settings.to_json()
    config = uvicorn.Config(
        "parity.server.app:build",
        factory=True,
        host=settings.host,
        port=port,
        workers=workers,
        log_config=_log_config(access_log),
        access_log=access_log,
        # The peer address is the client, never a header: the trusted-proxy check and the
        # login rate limit depend on it.
        proxy_headers=False,
        server_header=False,
        ws="none",
        lifespan="off",
        timeout_graceful_shutdown=_GRACEFUL_STOP_S,
    )
    if on_listening is not None:
        on_listening(replace(listening, url=_url(settings.host, port), workers=workers))
    try:
        if workers > 1:
            Multiprocess(config, sockets=[sock]).run()
        else:
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


def migrate(*, metadata_url: str | None = None, workspace: Path | None = None) -> Migration:
    """Bring the served database (``metadata_url``, else the workspace's) to this Parity's
    schema: the one way a server's schema changes. Replicas must be stopped or be of this
    version; a database of a newer Parity is refused."""
    if metadata_url is None:
        with open_workspace(workspace) as found:
            metadata_url = found.metadata_url
    before = open_metadata_store(metadata_url, migrate=False)
    try:
        revisions = tuple(before.schema_revisions())
    finally:
        before.close()
    after = open_metadata_store(metadata_url, migrate=True)
    try:
        return Migration(after.url, revisions, tuple(after.schema_revisions()))
    finally:
        after.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="pick another --port (0: any free one) or stop what uses it",
        ) from exc
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _log_config(access_log: bool) -> dict[str, Any]:
    """Uvicorn's logging with its chatter off (warnings and errors only) and, with
    ``access_log``, one line per request on stdout; passed whole, so every worker uses it."""
    from uvicorn.config import LOGGING_CONFIG  # lazy: uvicorn loads only to serve

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["uvicorn"]["level"] = "WARNING"
    config["loggers"]["uvicorn.error"]["level"] = "WARNING"
    config["loggers"]["uvicorn.access"]["level"] = "INFO" if access_log else "WARNING"
    return config
