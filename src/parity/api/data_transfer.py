"""Remotes, push and pull: the data versions of a workspace shared through an object store."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from parity.core.config import Config, Remote
from parity.data import remotes
from parity.store.objects.store import ObjectStore
from parity.workspace import Workspace, read_config


# remotes -----------------------------------------------------------------------------------------
def add_remote(
    workspace: Workspace,
    name: str,
    url: str,
    endpoint_url: str | None = None,
    region: str | None = None,
    make_default: bool = False,
) -> Remote:
    # Edit the file's own config, not the one with PARITY_* overrides applied, so an override
    # set in the shell is never written into config.toml.
    saved = remotes.add_remote(
        read_config(workspace.config_path), name, url, endpoint_url, region, make_default
    )
    _save_remotes(workspace, saved)
    return saved.remotes[name]


def remove_remote(workspace: Workspace, name: str) -> None:
    _save_remotes(workspace, remotes.remove_remote(read_config(workspace.config_path), name))


def list_remotes(workspace: Workspace) -> list[dict[str, Any]]:
    config = workspace.config
    return [
        {
            "name": r.name,
            "url": r.url,
            "endpoint_url": r.endpoint_url,
            "region": r.region,
            "default": r.name == config.default_remote,
        }
        for r in sorted(config.remotes.values(), key=lambda r: r.name)
    ]


def open_remote(workspace: Workspace, name: str | None) -> tuple[Remote, ObjectStore]:
    remote = remotes.choose_remote(workspace.config, name)
    return remote, remotes.open_remote(remote, workspace.root)


def _save_remotes(workspace: Workspace, saved: Config) -> None:
    current = workspace.config
    workspace.save_config(saved)
    workspace.config = replace(current, remotes=saved.remotes, default_remote=saved.default_remote)
