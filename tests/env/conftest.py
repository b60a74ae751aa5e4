"""Real virtual environments, built once per session with uv (its cache keeps reruns fast)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from uv import find_uv_bin

SKLEARN_A = "1.7.2"
SKLEARN_B = "1.8.0"


def build_venv(folder: Path, *requirements: str, copy: bool = False) -> Path:
    """A venv at ``folder`` with ``requirements`` and without Parity; returns its python.

    ``copy`` for a venv a test edits: uv hardlinks files from its cache, and an edit in place
    would change the cache for every later install.
    """
    uv = find_uv_bin()
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([uv, "venv", "-q", "--python", base, str(folder)], check=True)
    python = folder / "bin" / "python"
    if requirements:
        subprocess.run(
            [uv, "pip", "install", "-q", "--python", str(python), *requirements]
            + (["--link-mode", "copy"] if copy else []),
            check=True,
        )
    return python


@pytest.fixture(scope="session")
def venv_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_venv(tmp_path_factory.mktemp("venvs") / "a", f"scikit-learn=={SKLEARN_A}")


@pytest.fixture(scope="session")
def venv_b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_venv(tmp_path_factory.mktemp("venvs") / "b", f"scikit-learn=={SKLEARN_B}")


# A project-sized venv for export and restore round trips: >= 20 packages, numpy, scikit-learn.
ROUND_TRIP_REQUIREMENTS = (
    f"scikit-learn=={SKLEARN_A}",
    "pandas",
    "requests",
    "jinja2",
    "click",
    "pyyaml",
    "attrs",
    "packaging",
)


@pytest.fixture(scope="session")
def venv_big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_venv(tmp_path_factory.mktemp("venvs") / "big", *ROUND_TRIP_REQUIREMENTS)


# The tiny project of tests/env/fixtures/locks, installed as locked and with one package drifted.
@pytest.fixture(scope="session")
def venv_locked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_venv(tmp_path_factory.mktemp("venvs") / "locked", "six==1.17.0", "idna==3.10")


@pytest.fixture(scope="session")
def venv_drifted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_venv(tmp_path_factory.mktemp("venvs") / "drifted", "six==1.16.0", "idna==3.10")


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Parity's lock cache outside a workspace (XDG_CACHE_HOME) in the test's own folder."""
    folder = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder
