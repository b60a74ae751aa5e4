"""Remotes: named object stores a workspace pushes data to and pulls it from.

A remote is an entry ``[remote.NAME]`` in config.toml. These functions change the Config value;
the workspace writes it. Opening a remote builds its object store and nothing else.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from parity.core.config import Config, Remote, masked_url
from parity.core.errors import ConflictError, NotFoundError, UsageError
from parity.store.objects import open_object_store
from parity.store.objects.s3 import parse_s3_url
from parity.store.objects.store import ObjectStore

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_remote_url(url: str) -> str:
    """``url`` if Parity can use it as a remote; UsageError saying what to write otherwise."""
    if url.startswith(("http://", "https://")):
        host = url.split("://", 1)[1].split("/", 1)[0]
        if not host:
            raise UsageError(
                f"{masked_url(url)!r} names no server", hint="write https://HOST[:PORT]"
            )
        if "@" in host:  # config.toml goes into git: a token must never be written there
            raise UsageError(
                f"{masked_url(url)} carries credentials, and a remote's URL is kept in git",
                hint="drop them from the URL; use 'parity login URL' or PARITY_TOKEN",
            )
        return url.rstrip("/")
    if url.startswith("s3://"):
        parse_s3_url(url)
        return url
    if url.startswith("file://"):
        if not url[len("file://") :].startswith("/"):
            raise UsageError(
                f"{masked_url(url)} is not an absolute file URL", hint="write file:///PATH"
            )
        return url
    if "://" in url or not url.strip():
        raise UsageError(
            f"unsupported remote URL {masked_url(url)!r}",
            hint="use https://SERVER, s3://BUCKET/PREFIX, file:///PATH or a folder path",
        )
    return url


def add_remote(
    config: Config,
    name: str,
    url: str,
    endpoint_url: str | None = None,
    region: str | None = None,
    make_default: bool = False,
) -> Config:
    if not _NAME.match(name):
        raise UsageError(
            f"{name!r} is not a remote name",
            hint="use letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    if name in config.remotes:
        raise ConflictError(
            f"remote {name!r} already exists ({masked_url(config.remotes[name].url)})",
            hint=f"remove it first with 'parity remote remove {name}'",
        )
    url = check_remote_url(url)
    if (endpoint_url or region) and not url.startswith("s3://"):
        raise UsageError("--endpoint-url and --region apply to s3:// remotes only")
    return config.with_remote(Remote(name, url, endpoint_url, region), make_default=make_default)


def remove_remote(config: Config, name: str) -> Config:
    if name not in config.remotes:
        raise NotFoundError(f"no remote named {name!r}", hint="see 'parity remote list'")
    return config.without_remote(name)


def choose_remote(config: Config, name: str | None) -> Remote:
    """The remote called ``name``, or the default one."""
    if name is not None:
        if name not in config.remotes:
            raise NotFoundError(f"no remote named {name!r}", hint="see 'parity remote list'")
        return config.remotes[name]
    if config.default_remote and config.default_remote in config.remotes:
        return config.remotes[config.default_remote]
    if len(config.remotes) == 1:
        return next(iter(config.remotes.values()))
    if not config.remotes:
        raise NotFoundError(
            "this workspace has no remote", hint="add one with 'parity remote add NAME URL'"
        )
    raise UsageError(
        "there are several remotes and none is the default",
        hint="pass -r NAME, or make one the default with 'parity remote add … --default'",
    )


def open_remote(
    remote: Remote, base: Path, token: str | None = None, scratch: Path | None = None
) -> ObjectStore:
    """The object store of ``remote``; a relative folder is taken relative to ``base``.

    A Parity server (``https://…``) is reached with ``token``; its objects go through the
    server's object routes, with temp files in ``scratch`` (default: the system's temp folder).
    """
    url = check_remote_url(remote.url)
    if url.startswith(("http://", "https://")):
        from parity.store.http.client import (
            ServerClient,
        )  # lazy: httpx loads only for a remote on a Parity server
        from parity.store.http.objects import (
            HttpObjectBackend,
        )  # lazy: httpx loads only for a remote on a Parity server

        folder = scratch or Path(tempfile.gettempdir())
        client = ServerClient(url, token)
        return ObjectStore(HttpObjectBackend(client, folder, owns_client=True))
    return open_object_store(
        url,
        base=base,
        endpoint_url=remote.endpoint_url,
        region=remote.region,
    )
