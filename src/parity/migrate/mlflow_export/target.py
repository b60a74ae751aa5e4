"""Where an export goes: an MLflow server by URL, or a local store served by MLflow for the export.

A SQLite, PostgreSQL or ``./mlruns`` store has MLflow's own schema and migrations; rather than
write that schema behind MLflow's back, the export starts ``mlflow server`` over the store for its
duration (on 127.0.0.1, a free port) and writes through the same REST API as to a remote server.
That needs an ``mlflow`` program: on PATH, or named with ``--mlflow``. Its artifacts stay plain
local files (no artifact proxy), so MLflow's client opening the store directly reads them too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import httpx

from parity.core.errors import NotFoundError, StorageError, UsageError

START_TIMEOUT_S = 300.0  # MLflow 3 starts uvicorn and job consumers: slow on a busy machine
LOCAL_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg", "postgresql+psycopg2", "mysql")


def is_server(uri: str) -> bool:
    return urlsplit(uri).scheme in ("http", "https")


def local_store(uri: str, cwd: Path) -> tuple[str, Path]:
    """The backend-store URI MLflow is given for ``uri``, and the folder its artifacts go to.

    Artifacts of a database store go to ``mlartifacts`` beside a SQLite file (or the current
    folder for a database server), as ``mlflow server`` puts them by default; a file store keeps
    them inside itself.
    """
    scheme = urlsplit(uri).scheme
    if scheme in LOCAL_SCHEMES:
        if scheme == "sqlite":
            database = Path(uri.split(":///", 1)[-1]) if ":///" in uri else None
            if database is None or not str(database):
                raise UsageError(f"{uri} names no database file", hint="use sqlite:///PATH.db")
            folder = database.parent if database.is_absolute() else (cwd / database).parent
            return uri, folder / "mlartifacts"
        return uri, cwd / "mlartifacts"
    if scheme in ("", "file"):
        folder = Path(urlsplit(uri).path) if scheme == "file" else Path(uri)
        folder = folder if folder.is_absolute() else cwd / folder
        return folder.as_uri(), folder
    raise UsageError(
        f"cannot export to {uri!r}",
        hint="use http(s)://MLflow-server, sqlite:///mlflow.db, postgresql://… or ./mlruns",
    )


def find_mlflow(program: str | None) -> str:
    found = shutil.which(program or "mlflow")
    if found is None:
        raise NotFoundError(
            "exporting to a local MLflow store needs MLflow's own server program, "
            + (f"and {program} is not one" if program else "and no mlflow is on PATH"),
            hint="install mlflow (pip install mlflow), pass --mlflow PATH, "
            "or export to an http(s):// MLflow server",
        )
    return found


@contextmanager
def served(
    uri: str, *, mlflow: str | None = None, cwd: Path | None = None
) -> Iterator[tuple[str, bool]]:
    """The base URL of an MLflow server writing to ``uri`` (the URL itself, or one started here),
    and whether its artifact locations are folders of this machine."""
    if is_server(uri):
        yield uri, False
        return
    backend, artifacts = local_store(uri, cwd or Path.cwd())
    program = find_mlflow(mlflow)
    artifacts.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    command = [
        program, "server", "--host", "127.0.0.1", "--port", str(port),
        "--default-artifact-root", artifacts.as_uri(), "--no-serve-artifacts", "--workers", "1",
    ]  # fmt: skip
    # The store's URI goes in MLflow's own variable, not the command line, where any local user
    # could read a database password with ps.
    environ = {**os.environ, "MLFLOW_BACKEND_STORE_URI": backend}
    with tempfile.TemporaryFile() as log:
        # A session of its own: MLflow's server starts uvicorn and job consumers, which must all
        # stop with it, not be left to init.
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=environ, start_new_session=True
        )
        try:
            _wait_healthy(f"http://127.0.0.1:{port}/health", process, log)
            yield f"http://127.0.0.1:{port}", True
        finally:
            _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's whole process group, then SIGKILL to what is left after 20 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StorageError(
                f"mlflow server stopped at start (exit {process.returncode}): {_tail(log)}",
                hint="check the store URI, and that this mlflow can open it",
            )
        try:
            response = httpx.get(url, timeout=1)
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise StorageError(
        f"mlflow server did not answer within {START_TIMEOUT_S:.0f} s",
        hint="see if the store is reachable, or start it yourself and export to its URL",
    )


def _tail(log: IO[bytes]) -> str:
    try:
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
