"""Tokens saved by ``parity login``: one file in the user's config folder, mode 0600, a token
per server URL. Never inside a workspace (a workspace is shared through git)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from parity.core.errors import UsageError
from parity.core.file_errors import file_error

FILE_NAME = "credentials.toml"


def credentials_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "parity" / FILE_NAME


def _key(url: str) -> str:
    return url.rstrip("/")


def read_tokens(path: Path) -> dict[str, str]:
    try:
        document = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot read {path}: {exc}", hint=f"delete {path} and run 'parity login' again"
        ) from exc
    except OSError as exc:
        raise file_error(exc, path, "read") from exc
    servers = document.get("server", {})
    return {
        str(url): str(entry["token"])
        for url, entry in servers.items()
        if isinstance(entry, Mapping) and "token" in entry
    }


def token_for(url: str, environ: Mapping[str, str] | None = None) -> str | None:
    return read_tokens(credentials_path(environ)).get(_key(url))


def save_token(url: str, token: str, environ: Mapping[str, str] | None = None) -> Path:
    """Remember ``token`` for ``url``; the file is written whole, atomically, mode 0600."""
    import tomli_w  # lazy: the TOML writer loads only when a token is saved

    path = credentials_path(environ)
    tokens = read_tokens(path)
    tokens[_key(url)] = token
    text = tomli_w.dumps({"server": {url: {"token": t} for url, t in sorted(tokens.items())}})
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        raise file_error(exc, path, "write") from exc
    return path
