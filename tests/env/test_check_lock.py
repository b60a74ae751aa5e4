"""check-lock: every lock format against a venv that matches it and one that drifts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from parity.core.environment import Environment
from parity.env.capture import capture
from parity.env.check_lock import check_lock
from parity.env.lockfiles import find_lock, read_lock
from parity.env.markers import marker_environment
from tests.conftest import run_parity

LOCKS = Path(__file__).parent / "fixtures" / "locks"
FIXTURES = [
    LOCKS / "uv" / "uv.lock",
    LOCKS / "poetry" / "poetry.lock",
    LOCKS / "pipenv" / "Pipfile.lock",
    LOCKS / "requirements" / "requirements.txt",
    LOCKS / "pylock" / "pylock.toml",
    LOCKS / "conda" / "environment.yml",
]


@pytest.mark.parametrize("lock", FIXTURES, ids=lambda p: p.name)
def test_a_matching_venv_passes(lock: Path, venv_locked: Path, tmp_path: Path) -> None:
    result = run_parity("env", "check-lock", str(lock), "--python", str(venv_locked), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "all 2 declared packages match" in result.stdout


@pytest.mark.parametrize("lock", FIXTURES, ids=lambda p: p.name)
def test_a_drifting_venv_fails_naming_the_package(
    lock: Path, venv_drifted: Path, tmp_path: Path
) -> None:
    result = run_parity(
        "env", "check-lock", str(lock), "--python", str(venv_drifted), "--json", cwd=tmp_path
    )
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["different"] == [
        {"name": "six", "kind": "different", "expected": "1.17.0", "actual": "1.16.0"}
    ]
    assert report["missing"] == report["extra"] == []
    assert "different six" in result.stderr


@pytest.fixture(scope="module")
def locked(venv_locked: Path) -> Environment:
    return capture(venv_locked)


@pytest.mark.parametrize("lock", FIXTURES, ids=lambda p: p.name)
def test_markers_are_evaluated_for_the_checked_platform(lock: Path, locked: Environment) -> None:
    on_linux = read_lock(lock, marker_environment(locked))
    assert "pywin32" not in on_linux.packages
    windows = {**marker_environment(locked), "sys_platform": "win32"}
    assert read_lock(lock, windows).packages["pywin32"].version == "311"


def test_missing_and_extra_packages_are_listed(locked: Environment, tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.17.0\nattrs==25.3.0\n")
    result = check_lock(read_lock(lock, marker_environment(locked)), locked)
    assert [(d.kind, d.name) for d in result.drift] == [("missing", "attrs"), ("extra", "idna")]
    assert not result.ok


def test_the_lock_at_the_git_root_is_found(venv_drifted: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(LOCKS / "uv", project)
    (project / ".git").mkdir()
    (project / "src").mkdir()
    assert find_lock(project) == project / "uv.lock"
    result = run_parity("env", "check-lock", "--python", str(venv_drifted), cwd=project / "src")
    assert result.returncode == 1
    assert "six" in result.stdout
    assert "uv.lock" in result.stderr


def test_no_lock_file_is_not_found(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    result = run_parity("env", "check-lock", cwd=tmp_path)
    assert result.returncode == 3
    assert "no lock file" in result.stderr


def test_an_unknown_file_name_is_bad_usage(tmp_path: Path) -> None:
    odd = tmp_path / "deps.cfg"
    odd.write_text("six==1.17.0\n")
    result = run_parity("env", "check-lock", str(odd), cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot tell which lock format" in result.stderr


def test_unpinned_requirements_are_checked_as_ranges(locked: Environment, tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("six>=1.16,<2\nidna<3\n")
    result = check_lock(read_lock(lock, marker_environment(locked)), locked)
    assert [(d.name, d.expected, d.actual) for d in result.drift] == [("idna", "<3", "3.10")]


UV_LOCK_WITH_GROUPS = """
version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "six" }]

[package.optional-dependencies]
plots = [{ name = "attrs" }]

[package.dev-dependencies]
dev = [{ name = "idna" }]
docs = [{ name = "packaging" }]

[[package]]
name = "six"
version = "1.17.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "idna"
version = "3.10"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "attrs"
version = "25.3.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "packaging"
version = "25.0"
source = { registry = "https://pypi.org/simple" }
"""


def test_uv_lock_requires_the_dev_group_and_allows_extras_and_other_groups(
    locked: Environment, tmp_path: Path
) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text(UV_LOCK_WITH_GROUPS)
    declared = read_lock(lock, marker_environment(locked))
    assert declared.project == {"app"}
    assert {n: e.optional for n, e in declared.packages.items()} == {
        "six": False,
        "idna": False,
        "attrs": True,
        "packaging": True,
    }
    assert check_lock(declared, locked).ok
    lock.write_text(UV_LOCK_WITH_GROUPS.replace('version = "3.10"', 'version = "3.9"'))
    drift = check_lock(read_lock(lock, marker_environment(locked)), locked).drift
    assert [(d.kind, d.name, d.expected) for d in drift] == [("different", "idna", "3.9")]


def test_poetry_packages_outside_main_may_be_absent(locked: Environment, tmp_path: Path) -> None:
    lock = tmp_path / "poetry.lock"
    lock.write_text(
        (LOCKS / "poetry" / "poetry.lock").read_text()
        + '\n[[package]]\nname = "pytest"\nversion = "8.4.0"\noptional = false\n'
        'python-versions = ">=3.9"\ngroups = ["dev"]\nfiles = []\n'
    )
    declared = read_lock(lock, marker_environment(locked))
    assert declared.packages["pytest"].optional
    assert check_lock(declared, locked).ok
