"""The composition root: find the workspace, read its config once, build the stores.

Services never pick a backend; they are handed the stores built here. That is what lets one test
run the same scenario over every backend.
"""

from __future__ import annotations

import getpass
import os
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from parity.core.config import Config
from parity.core.errors import NotFoundError, UsageError
from parity.core.file_errors import file_error

if TYPE_CHECKING:
    import sqlite3

    from parity.data.index_port import ChunkIndexPort
    from parity.deploy.deployments import DeploymentLedger
    from parity.deploy.exports import Filings
    from parity.events.outbox import EventLedger, EventOutbox
    from parity.monitor.repository import Monitoring
    from parity.registry.reads import VersionReader
    from parity.registry.repository import Actor, ModelRegistry
    from parity.repro.store import Reproductions
    from parity.store.http.client import ServerClient
    from parity.store.meta.store import MetadataStore
    from parity.store.objects.store import ObjectStore
    from parity.store.records import RecordStore
    from parity.tracking.repository import RunRepository

PARITY_DIR = ".parity"
CONFIG_FILE = "config.toml"
DATABASE_FILE = "parity.db"
SQLITE_FILE_URL = "sqlite:///"
OBJECTS_DIR = "objects"
CACHE_DIR = "cache"  # what commands keep to go faster next time: safe to delete
TMP_DIR = "tmp"  # temp files of a workspace whose objects are on a server

_CONFIG_TEMPLATE = """\
# Parity workspace configuration. Environment variables override these:
# PARITY_METADATA_URL, PARITY_OBJECTS_URL, PARITY_S3_ENDPOINT_URL.
[parity]
format = 1

[core]
# metadata_url = "postgresql+psycopg://user@host/db"   (default: SQLite in .parity/parity.db)
# objects_url = "s3://bucket/prefix"                    (default: the folder .parity/objects)

# [remote.origin]
# url = "s3://bucket/prefix"
# endpoint_url = "http://127.0.0.1:9000"
"""


def now_ms() -> int:
    """The clock every service is handed: milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that holds a ``.parity`` folder."""
    for folder in (start, *start.parents):
        config = folder / PARITY_DIR / CONFIG_FILE
        try:
            if config.is_file():
                return folder
        except OSError as exc:  # a .parity folder this user may not enter
            raise file_error(exc, config, "read") from exc
    return None


def find_git_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


_LOGIN_VARIABLES = ("LOGNAME", "USER", "LNAME", "USERNAME")
_login: tuple[tuple[object, ...], str] | None = None


def login_name() -> str:
    """``getpass.getuser()``, asked once while the variables it reads first and the uid stay:
    its fallback, the password database, costs a run more than the run's own row."""
    global _login
    key = (os.getuid(), *(os.environ.get(name) for name in _LOGIN_VARIABLES))
    if _login is None or _login[0] != key:
        _login = (key, getpass.getuser())
    return _login[1]


@dataclass
class Workspace:
    root: Path
    config: Config
    environ_user: str | None = None
    environ_token: str | None = None
    # A workspace opened by a server for the stores it serves: never a client of a server.
    embedded: bool = False

    @property
    def parity_dir(self) -> Path:
        return self.root / PARITY_DIR

    @property
    def config_path(self) -> Path:
        return self.parity_dir / CONFIG_FILE

    @property
    def metadata_url(self) -> str:
        return self.config.metadata_url or f"sqlite:///{self.parity_dir / DATABASE_FILE}"

    @property
    def objects_url(self) -> str:
        return self.config.objects_url or str(self.parity_dir / OBJECTS_DIR)

    @property
    def policy_path(self) -> Path:
        """The project's policy file (gate checks, promotion rules): parity.toml at the git
        root, or at the workspace's root outside git."""
        from parity.gate.policy import POLICY_FILE  # lazy: the gate's module loads on use

        return (find_git_root(self.root) or self.root) / POLICY_FILE

    @property
    def server_url(self) -> str | None:
        """The Parity server whose stores this workspace uses, or None (embedded stores)."""
        return None if self.embedded else self.config.server_url

    # the stores, built on first use so that commands that need none stay fast ------------------
    @cached_property
    def server(self) -> ServerClient:
        """The client of ``server_url`` (team mode)."""
        from parity.store.http.client import (
            ServerClient,
        )  # lazy: httpx loads only in team mode
        from parity.store.http.credentials import (
            token_for,
        )  # lazy: the credentials file is read only in team mode

        if self.server_url is None:
            raise UsageError(
                "this workspace uses no Parity server",
                hint="set PARITY_SERVER_URL or run 'parity login URL'",
            )
        token = self.environ_token or token_for(self.server_url)
        return ServerClient(self.server_url, token)

    @cached_property
    def meta(self) -> MetadataStore:
        if self.server_url is not None:
            raise UsageError(
                "this needs direct access to the metadata database, which a workspace using "
                f"the server {self.server_url} does not have",
                hint="run it on the server host, or unset PARITY_SERVER_URL",
            )
        from parity.store.meta.store import (
            open_metadata_store,
        )  # lazy: SQLAlchemy loads only for commands that use the database

        return open_metadata_store(self.metadata_url)

    @cached_property
    def meta_unmigrated(self) -> MetadataStore:
        """The metadata store as it is, never migrated on open (a server checks its schema)."""
        from parity.store.meta.store import (
            open_metadata_store,
        )  # lazy: SQLAlchemy loads only for commands that use the database

        return open_metadata_store(self.metadata_url, migrate=False)

    @cached_property
    def objects(self) -> ObjectStore:
        if self.server_url is not None:
            from parity.store.http.objects import (
                HttpObjectBackend,
            )  # lazy: httpx loads only in team mode
            from parity.store.objects.store import (
                ObjectStore,
            )  # lazy: the object store loads on first use

            return ObjectStore(HttpObjectBackend(self.server, self.parity_dir / TMP_DIR))
        from parity.store.objects import (
            open_object_store,
        )  # lazy: the object store (and boto3 for S3) loads on first use

        return open_object_store(
            self.objects_url, base=self.root, endpoint_url=self.config.s3_endpoint_url
        )

    @cached_property
    def records(self) -> RecordStore:
        from parity.store.records import (
            RecordStore,
        )  # lazy: SQLAlchemy loads only for commands that use the database

        if self.server_url is not None:
            from parity.store.http.records import (
                HttpRecordIndex,
            )  # lazy: httpx loads only in team mode

            return RecordStore(self.objects, HttpRecordIndex(self.server))
        return RecordStore(self.objects, open_index=lambda: self.meta)

    @property
    def chunk_index(self) -> ChunkIndexPort:
        """Where stored data chunks are: the metadata store's index, or the server's. A new one
        on each use: the SQL index remembers which packs it saw, for one add."""
        if self.server_url is not None:
            from parity.data.index_http import (
                HttpChunkIndex,
            )  # lazy: httpx loads only in team mode

            return HttpChunkIndex(self.server)
        from parity.data.index import (
            ChunkIndex,
        )  # lazy: SQLAlchemy loads only for commands that use the database

        return ChunkIndex(self.meta, self.objects)

    @cached_property
    def registry(self) -> ModelRegistry:
        if self.server_url is not None:
            from parity.registry.remote import (
                RemoteRegistry,
            )  # lazy: the HTTP registry loads only in team mode

            return RemoteRegistry(self.server)
        from parity.registry.promotion import load_promotion  # lazy: with the registry
        from parity.registry.versions import (
            Registry,
        )  # lazy: SQLAlchemy loads only for commands that use the database

        return Registry(
            self.meta,
            clock=now_ms,
            promotion=lambda: load_promotion(self.policy_path),
            on_change=self.outbox.registry_change,
        )

    @cached_property
    def direct_sqlite(self) -> sqlite3.Connection | None:
        """A stdlib ``sqlite3`` connection (read-only) to the embedded metadata database when it
        is exactly at this Parity's schema; None otherwise (a server, PostgreSQL, a database to
        migrate), and the caller goes through the full store."""
        path = self.sqlite_file
        if path is None:
            return None
        from parity.store.meta.direct import (
            open_direct_sqlite,
        )  # lazy: stdlib sqlite3, for commands that only read a few rows

        return open_direct_sqlite(path)

    @property
    def sqlite_file(self) -> Path | None:
        """The embedded SQLite database's file, when the workspace has one of its own that
        stdlib ``sqlite3`` may open as SQLAlchemy would; None otherwise."""
        if self.server_url is not None or not self.metadata_url.startswith(SQLITE_FILE_URL):
            return None
        path = self.metadata_url[len(SQLITE_FILE_URL) :]
        # In memory, or characters SQLAlchemy's URL parser reads specially (options, escapes):
        # such a database goes through the store, as api._direct's readers do.
        if not path or set("?#%@:") & set(path):
            return None
        return Path(path)

    @cached_property
    def registry_reads(self) -> VersionReader:
        """Version and alias look-ups: over ``direct_sqlite`` when there is one (no SQLAlchemy),
        else the full registry, which answers them the same way."""
        connection = self.direct_sqlite
        if connection is None:
            return self.registry
        from parity.registry.reads import (
            RegistryReads,
        )  # lazy: the stdlib registry reads load only for commands that look a version up

        return RegistryReads(connection)

    @cached_property
    def monitoring(self) -> Monitoring:
        """The prediction log of model servers and the profiles drift is checked against."""
        if self.server_url is not None:
            from parity.monitor.remote import (
                RemoteMonitorStore,
            )  # lazy: the HTTP store loads only in team mode

            return RemoteMonitorStore(self.server)
        from parity.monitor.logged import (
            MonitorStore,
        )  # lazy: SQLAlchemy loads only for commands that use the database

        return MonitorStore(self.meta)

    @cached_property
    def deployments(self) -> DeploymentLedger:
        """What runs where: the deployment records of model versions."""
        if self.server_url is not None:
            from parity.deploy.remote import (
                RemoteDeploymentLog,
            )  # lazy: the HTTP ledger loads only in team mode

            return RemoteDeploymentLog(self.server)
        from parity.deploy.deployments import (
            DeploymentLog,
        )  # lazy: SQLAlchemy loads only for commands that use the database

        return DeploymentLog(self.meta, now_ms, on_record=self.outbox.deployment_recorded)

    @cached_property
    def outbox(self) -> EventOutbox:
        """The events outbox, webhooks and delivery log in the metadata database (embedded)."""
        from parity.events.outbox import (
            EventOutbox,
        )  # lazy: SQLAlchemy loads only for commands that use the database

        return EventOutbox(self.meta, now_ms)

    @cached_property
    def events(self) -> EventLedger:
        """Events and webhooks: the outbox, or the server's."""
        if self.server_url is not None:
            from parity.events.remote import (
                RemoteEvents,
            )  # lazy: the HTTP client loads only in team mode

            return RemoteEvents(self.server, now_ms)
        return self.outbox

    @cached_property
    def export_filings(self) -> Filings:
        """Which deploy exports were made for which model version."""
        if self.server_url is not None:
            from parity.deploy.remote import (
                RemoteExportFiling,
            )  # lazy: the HTTP filing loads only in team mode

            return RemoteExportFiling(self.server)
        from parity.deploy.exports import (
            ExportFiling,
        )  # lazy: SQLAlchemy loads only for commands that use the database

        return ExportFiling(self.meta)

    @cached_property
    def reproductions(self) -> Reproductions:
        """Which runs reproduced which, with their verdicts."""
        if self.server_url is not None:
            from parity.repro.remote import (
                RemoteReproductions,
            )  # lazy: the HTTP log loads only in team mode

            return RemoteReproductions(self.server)
        from parity.repro.store import (
            ReproductionLog,
        )  # lazy: SQLAlchemy loads only for commands that use the database

        return ReproductionLog(self.meta)

    @cached_property
    def runs(self) -> RunRepository:
        if self.server_url is not None:
            from parity.tracking.remote import (
                RemoteRunStore,
            )  # lazy: the HTTP client loads only in team mode

            return RemoteRunStore(self.server)
        from parity.tracking.store import (
            RunStore,
        )  # lazy: SQLAlchemy loads only for commands that use the database

        return RunStore(self.meta, now_ms, self.records)

    def actor(self) -> Actor:
        """Who is acting: PARITY_USER or the login name. With no ``[registry] admins`` list in
        config.toml, the login user of an embedded workspace is its admin: a name set with
        PARITY_USER is a label, not a login, so it does not make anyone an admin."""
        from parity.registry.repository import (
            Actor,
        )  # lazy: the registry's rules load only for commands that change it

        name = self.user
        admins = self.config.section("registry").get("admins")
        if admins is None:
            return Actor(name=name, admin=name == login_name())
        return Actor(name=name, admin=name in admins)

    @property
    def user(self) -> str:
        return self.environ_user or login_name()

    def close(self) -> None:
        for store in ("meta", "meta_unmigrated", "server"):
            if store in self.__dict__:
                self.__dict__[store].close()
        # A closed sqlite3 connection cannot be used again (an engine can): forget it, so a
        # workspace used after close() opens a new one, as its engine would.
        direct = self.__dict__.pop("direct_sqlite", None)
        if direct is not None:
            self.__dict__.pop("registry_reads", None)
            direct.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def save_config(self, config: Config) -> None:
        """Write ``config`` to config.toml atomically and use it from now on."""
        import tomli_w  # lazy: the TOML writer loads only when config.toml is written

        from parity.store.objects.local import (
            atomic_write_bytes,
        )  # lazy: the object store loads only when something is written

        atomic_write_bytes(self.config_path, tomli_w.dumps(config.to_dict()).encode())
        self.config = config


def read_config(path: Path) -> Config:
    try:
        document = tomllib.loads(path.read_bytes().decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}", hint="fix the TOML syntax") from exc
    except OSError as exc:
        raise file_error(exc, path, "read") from exc
    return Config.from_dict(document)


def open_workspace(
    start: Path | None = None, environ: Mapping[str, str] | None = None
) -> Workspace:
    """The workspace containing ``start`` (default: the current folder, or ``PARITY_WORKSPACE``)."""
    env = os.environ if environ is None else environ
    if env.get("PARITY_WORKSPACE"):
        root: Path | None = Path(env["PARITY_WORKSPACE"]).resolve()
        if root is not None and not (root / PARITY_DIR / CONFIG_FILE).is_file():
            raise NotFoundError(
                f"PARITY_WORKSPACE={root} is not a Parity workspace",
                hint=f"run 'parity init {root}' or unset PARITY_WORKSPACE",
            )
    else:
        root = find_root((start or Path.cwd()).resolve())
    if root is None:
        raise NotFoundError(
            "not inside a Parity workspace", hint="run 'parity init' at the root of your project"
        )
    config = read_config(root / PARITY_DIR / CONFIG_FILE).with_environment(env)
    return Workspace(
        root=root,
        config=config,
        environ_user=env.get("PARITY_USER"),
        environ_token=env.get("PARITY_TOKEN"),
    )


def init_workspace(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Workspace, bool]:
    """Create a workspace at ``path`` (default: the git root, else the current folder).

    Returns the workspace and whether it was created now; an existing one is left untouched.
    """
    env = os.environ if environ is None else environ
    here = Path.cwd().resolve()
    root = (path or find_git_root(here) or here).resolve()
    parity_dir = root / PARITY_DIR
    created = not (parity_dir / CONFIG_FILE).is_file()
    if created:
        from parity.store.objects.local import (
            atomic_write_bytes,
        )  # lazy: the object store loads only when something is written

        try:
            (parity_dir / OBJECTS_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                f"cannot create {parity_dir}: {exc.strerror}", hint="check the folder permissions"
            ) from exc
        (parity_dir / ".gitignore").write_text(
            "# Parity's local stores are not for git; config.toml is.\n"
            "*\n!config.toml\n!.gitignore\n"
        )
        atomic_write_bytes(parity_dir / CONFIG_FILE, _CONFIG_TEMPLATE.encode())
    workspace = open_workspace(environ={**env, "PARITY_WORKSPACE": str(root)})
    # Opening the stores creates the database and applies migrations now, not on first use; a
    # workspace using a server has no database of its own (the server's is migrated explicitly).
    if workspace.server_url is None:
        _ = workspace.meta, workspace.objects
    return workspace, created
