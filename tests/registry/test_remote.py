"""The HTTP registry as a team-mode workspace hands it out, and what it refuses before any call
(its contract over a live server is in test_versions.py and test_concurrency.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.core.errors import NotFoundError, UsageError
from parity.monitor.logged import MonitorStore
from parity.monitor.remote import RemoteMonitorStore
from parity.registry.remote import RemoteRegistry
from parity.registry.repository import Actor
from parity.registry.versions import Registry
from parity.store.http.client import ServerClient
from parity.workspace import open_workspace

# Nothing listens here: a call that reached the network would fail with a StorageError.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def offline() -> Iterator[RemoteRegistry]:
    with ServerClient(NOWHERE, "token", attempts=1) as client:
        yield RemoteRegistry(client)


def test_a_workspace_using_a_server_keeps_its_models_and_logs_there(workspace_dir: Path) -> None:
    environ = {"PARITY_WORKSPACE": str(workspace_dir)}
    with open_workspace(workspace_dir, environ=environ) as embedded:
        assert isinstance(embedded.registry, Registry)
        assert isinstance(embedded.monitoring, MonitorStore)
    team = {**environ, "PARITY_SERVER_URL": NOWHERE, "PARITY_TOKEN": "token"}
    with open_workspace(workspace_dir, environ=team) as workspace:
        assert isinstance(workspace.registry, RemoteRegistry)
        assert isinstance(workspace.monitoring, RemoteMonitorStore)
        assert workspace.registry.server is workspace.server


def test_names_the_registry_refuses_are_refused_without_a_call(offline: RemoteRegistry) -> None:
    alice = Actor("alice")
    with pytest.raises(UsageError, match="'bad name' is not a valid model name"):
        offline.register("bad name", "a" * 64, alice)
    with pytest.raises(UsageError, match="'7' cannot be an alias"):
        offline.set_alias("bc", 1, "7", alice)
    with pytest.raises(UsageError, match="model versions start at 1"):
        offline.get("bc", 0)
    with pytest.raises(UsageError, match="a model version is a whole number"):
        offline.lock("bc", True, alice)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match=r"no model named '\.\./etc'"):
        offline.versions("../etc")
    with pytest.raises(NotFoundError, match="model 'bc' has no alias 'a/b'"):
        offline.by_alias("bc", "a/b")
    with pytest.raises(UsageError, match="does not name a model version"):
        offline.resolve("bc/x")
