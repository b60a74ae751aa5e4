"""Name the object stores data is pushed to and pulled from: what ``parity remote`` does.

>>> from parity.api import remotes
>>> remotes.add("origin", "s3://bucket/project", make_default=True)  # doctest: +SKIP
Remote(name='origin', url='s3://bucket/project', …)
>>> [r["name"] for r in remotes.list()]                              # doctest: +SKIP
['origin']

Remotes are kept in ``.parity/config.toml``, so a committed config works in every clone.
"""

from __future__ import annotations

import builtins
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from parity.api._session import session
from parity.core.config import Config, Remote, masked_url
from parity.data import remotes as remote_config
from parity.workspace import Workspace, read_config

__all__ = ["add", "delete", "list"]


def add(
    name: str,
    url: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    make_default: bool = False,
    workspace: Workspace | None = None,
) -> Remote:
    """Add remote ``name`` at ``url``: ``s3://BUCKET/PREFIX``, ``file:///PATH``, a folder, or a
    Parity server ``https://HOST`` (reached with PARITY_TOKEN or the token of 'parity login').

    >>> remotes.add("backup", "../shared-data")          # doctest: +SKIP
    """
    with session(workspace) as ws:
        if "://" not in url and not Path(url).expanduser().is_absolute():
            # Typed relative to where the user stands; kept relative to the workspace root, so a
            # committed config.toml works in every clone.
            url = os.path.relpath(Path.cwd() / url, ws.root)
        # Edit the file's own config, not the one with PARITY_* overrides applied, so an override
        # set in the shell is never written into config.toml.
        saved = remote_config.add_remote(
            read_config(ws.config_path), name, url, endpoint_url, region, make_default
        )
        _save(ws, saved)
        return saved.remotes[name]


def delete(name: str, *, workspace: Workspace | None = None) -> None:
    """Delete remote ``name`` from the configuration (its data stays where it is).

    >>> remotes.delete("backup")                         # doctest: +SKIP
    """
    with session(workspace) as ws:
        _save(ws, remote_config.remove_remote(read_config(ws.config_path), name))


# The name before the CLI settled its words (docs/cli.md): "delete" everywhere.
remove = delete


def list(*, workspace: Workspace | None = None) -> builtins.list[dict[str, Any]]:
    """The remotes, by name: name, url, endpoint_url, region and whether it is the default.
    A password or token in a URL is shown as ``***`` (config.toml keeps it).

    >>> remotes.list()                                   # doctest: +SKIP
    [{'name': 'origin', 'url': 's3://bucket/project', 'default': True, …}]
    """
    with session(workspace) as ws:
        config = ws.config
        return [
            {
                "name": r.name,
                "url": masked_url(r.url),
                "endpoint_url": None if r.endpoint_url is None else masked_url(r.endpoint_url),
                "region": r.region,
                "default": r.name == config.default_remote,
            }
            for r in sorted(config.remotes.values(), key=lambda r: r.name)
        ]


def _save(workspace: Workspace, saved: Config) -> None:
    current = workspace.config
    workspace.save_config(saved)
    workspace.config = replace(current, remotes=saved.remotes, default_remote=saved.default_remote)
