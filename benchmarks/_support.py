"""Shared helpers for the benchmarks: competitor venvs, free ports, waiting for servers."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from uv import find_uv_bin

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / ".bench"


def tool_venv(name: str, *requirements: str) -> Path:
    """A venv under .bench/ holding a competitor tool (never in Parity's own lock)."""
    folder = BENCH / name
    python = folder / "bin" / "python"
    marker = folder / ".requirements"
    wanted = "\n".join(requirements)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    uv = find_uv_bin()
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run(
        [uv, "venv", "-q", "--allow-existing", "--python", base, str(folder)], check=True
    )
    subprocess.run([uv, "pip", "install", "-q", "--python", str(python), *requirements], check=True)
    marker.write_text(wanted)
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    url: str, timeout: float = 120.0, ok: Callable[[int], bool] = lambda s: s == 200
) -> float:
    """Seconds until ``url`` answers with an accepted status."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if ok(response.status):
                    return time.perf_counter() - started
        except urllib.error.HTTPError as refused:
            # An error status is a response too: close it, and accept it if the caller does.
            refused.close()
            if ok(refused.code):
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    env.update(extra)
    return env


def python_env(bytecode_cache: bool = True, **extra: str) -> dict[str, str]:
    """``clean_env`` for timing Python processes, with or without a bytecode cache.

    Python then reads and writes bytecode only under PYTHONPYCACHEPREFIX, never in a
    ``__pycache__`` beside the sources, so what other jobs left in the venvs cannot change a
    figure. With the cache (the steady state of an installed tool) every process shares
    .bench/pycache; without it, a prefix that stays empty means every module, the standard
    library's included, is compiled from source on every import.
    """
    env = clean_env(**extra)
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(BENCH / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = str(BENCH / "no-pycache")  # never written: stays empty
    return env


def median_seconds(action: Callable[[], object], repeat: int = 7, warmup: int = 1) -> float:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (printed, and pasted into docs/benchmarks.md)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
