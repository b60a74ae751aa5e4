"""What every request handler of one server process shares: the served workspace's stores,
the accounts, the settings. Built once per process; holds no per-request state."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from parity.accounts.store import Accounts
from parity.core.config import Config
from parity.events.background import DeliveryThread
from parity.server.costly import CostlyLimiter
from parity.server.settings import LoginLimiter, ServerSettings
from parity.workspace import Workspace, now_ms, open_workspace


@dataclass
class ServerContext:
    settings: ServerSettings
    workspace: Workspace
    accounts: Accounts
    limiter: LoginLimiter = field(init=False)
    costly: CostlyLimiter = field(init=False)
    delivery: DeliveryThread = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = LoginLimiter(self.settings.login_attempts_per_minute)
        self.costly = CostlyLimiter(self.settings.costly_per_user, self.settings.costly_in_all)
        # Events the server stages are sent by its own thread, never by a request or a client.
        self.delivery = DeliveryThread(self.workspace.outbox)
        self.workspace.outbox.listeners.append(self.delivery.kick)

    def close(self) -> None:
        self.delivery.stop()
        self.workspace.close()


def open_served_workspace(settings: ServerSettings) -> Workspace:
    """The workspace whose stores the server serves, always embedded (a server never talks to
    another server), with the URLs given on the command line taking precedence."""
    environ = {"PARITY_WORKSPACE": settings.workspace}
    workspace = open_workspace(Path(settings.workspace), environ=environ)
    config: Config = workspace.config.with_overrides(
        metadata_url=settings.metadata_url,
        objects_url=settings.objects_url,
        s3_endpoint_url=settings.s3_endpoint_url,
    )
    return Workspace(root=workspace.root, config=config, embedded=True)


def check_schema(workspace: Workspace) -> None:
    """Refuse a database whose schema is not the one this Parity knows: replicas never migrate
    on their own, so two versions of Parity cannot race to change it."""
    workspace.meta_unmigrated.check_schema()


def build_context(settings: ServerSettings, clock: object = now_ms) -> ServerContext:
    workspace = open_served_workspace(settings)
    check_schema(workspace)
    return ServerContext(settings, workspace, Accounts(workspace.meta, now_ms))
