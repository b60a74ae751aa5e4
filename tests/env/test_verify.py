"""The acceptance scenarios: verify across real venvs, deep captures, and no secrets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from parity.core.env_rules import Risk
from parity.core.environment import NUMERICS_VARIABLES
from parity.env import capture, diff, verify
from tests.conftest import run_parity
from tests.env.conftest import SKLEARN_A, SKLEARN_B, build_venv


@pytest.fixture
def record_a(venv_a: Path, tmp_path: Path) -> Path:
    """A's fingerprint as a file, written by the real CLI."""
    path = tmp_path / "a.json"
    result = run_parity("env", "capture", "--python", str(venv_a), "-o", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return path


def test_verify_against_another_sklearn_minor_exits_1_rating_it_high(
    record_a: Path, venv_b: Path, tmp_path: Path
) -> None:
    result = run_parity(
        "env", "verify", str(record_a), "--python", str(venv_b), "--json", cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False
    sklearn = [d for d in report["differences"] if d["subject"] == "package scikit-learn"]
    assert sklearn == [
        {
            "subject": "package scikit-learn",
            "rule": "package.native.major_minor",
            "expected": SKLEARN_A,
            "actual": SKLEARN_B,
            "risk": "high",
            "reason": "another major/minor version of a package with native code",
        }
    ]
    # With --json the failure is a JSON error on stderr; without, one line.
    assert json.loads(result.stderr) == {
        "code": 1,
        "error": "environment differs at high risk or above: package scikit-learn",
        "hint": None,
    }
    table = run_parity("env", "verify", str(record_a), "--python", str(venv_b), cwd=tmp_path)
    assert "error: environment differs at high risk or above: package scikit-learn" in table.stderr
    assert "scikit-learn" in table.stdout
    assert "not verified" in table.stdout


def test_verify_against_itself_exits_0(record_a: Path, venv_a: Path, tmp_path: Path) -> None:
    result = run_parity("env", "verify", str(record_a), "--python", str(venv_a), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified: 0 differences at or above high" in result.stdout


def test_threshold_and_strict(venv_a: Path, venv_b: Path) -> None:
    a, b = capture(venv_a), capture(venv_b)
    assert not verify(a, b).ok
    assert verify(a, a).ok
    # Only what the code imported counts: scikit-learn's difference drops to info without it.
    narrowed = verify(a, b, imported={"numpy"})
    assert narrowed.ok
    assert all(d.risk == Risk.INFO for d in narrowed.diff.differences if "scikit" in d.subject)
    assert not verify(a, b, threshold="low").ok


def test_deep_capture_flags_an_edited_file_and_verify_rates_it_high(tmp_path: Path) -> None:
    python = build_venv(tmp_path / "venv", "six==1.16.0", copy=True)
    clean = capture(python, deep=True)
    six = clean.distribution("six")
    assert six is not None
    assert six.modified_files == ()
    site = next((tmp_path / "venv" / "lib").glob("python*/site-packages"))
    target = site / "six.py"
    target.write_text(target.read_text() + "\n# a local patch\n")
    edited = capture(python, deep=True)
    flagged = edited.distribution("six")
    assert flagged is not None
    assert flagged.modified_files == ("six.py",)
    result = verify(clean, edited)
    assert not result.ok
    assert [(d.subject, d.rule) for d in result.blocking] == [("package six", "package.modified")]
    cli = run_parity("env", "capture", "--python", str(python), "--deep", cwd=tmp_path)
    assert "locally modified packages: six" in cli.stderr


@pytest.mark.slow
def test_secrets_never_reach_the_record_the_store_or_the_database(
    workspace_dir: Path, venv_a: Path
) -> None:
    secrets = {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-secret-7f3a9", "MY_TOKEN": "tok-91c2e8d4b7"}
    result = run_parity(
        "env",
        "capture",
        "--python",
        str(venv_a),
        "--json",
        cwd=workspace_dir,
        env={**secrets, "OMP_NUM_THREADS": "3"},
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)["body"]
    assert record["numerics"]["OMP_NUM_THREADS"] == "3"
    assert set(record["numerics"]) <= set(NUMERICS_VARIABLES)
    in_process = run_parity("env", "capture", cwd=workspace_dir, env=secrets)
    assert in_process.returncode == 0
    haystack = result.stdout.encode()
    for path in (workspace_dir / ".parity").rglob("*"):
        if path.is_file():
            haystack += path.read_bytes()
    for value in secrets.values():
        assert value.encode() not in haystack
    # The search is real: the stored objects hold the allowed variable's value.
    assert b"OMP_NUM_THREADS" in haystack


def test_diff_cli_shows_rated_differences(venv_a: Path, venv_b: Path, tmp_path: Path) -> None:
    a_file, b_file = tmp_path / "a.json", tmp_path / "b.json"
    run_parity("env", "capture", "--python", str(venv_a), "-o", str(a_file), cwd=tmp_path)
    run_parity("env", "capture", "--python", str(venv_b), "-o", str(b_file), cwd=tmp_path)
    result = run_parity("env", "diff", str(a_file), str(b_file), "--json", cwd=tmp_path)
    assert result.returncode == 0
    subjects = {d["subject"]: d["risk"] for d in json.loads(result.stdout)["differences"]}
    assert subjects["package scikit-learn"] == "high"
    same = run_parity("env", "diff", str(a_file), str(a_file), cwd=tmp_path)
    assert same.stdout.strip() == "identical"
    # An interpreter's path is captured on the spot, not read as a fingerprint file.
    live = run_parity("env", "diff", str(a_file), str(venv_b), "--json", cwd=tmp_path)
    assert live.returncode == 0, live.stderr
    assert {d["subject"]: d["risk"] for d in json.loads(live.stdout)["differences"]} == subjects


@pytest.mark.slow
def test_stored_environments_are_named_by_id_prefix(workspace_dir: Path, venv_a: Path) -> None:
    captured = run_parity("env", "capture", "--python", str(venv_a), cwd=workspace_dir)
    environment_id = captured.stdout.split()[0]
    shown = run_parity("env", "show", environment_id[:8], "--json", cwd=workspace_dir)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"] == environment_id
    unknown = run_parity("env", "show", "abcd1234", cwd=workspace_dir)
    assert unknown.returncode == 3
    assert "no env has an id starting with abcd1234" in unknown.stderr


def test_environment_copied_elsewhere_keeps_package_identity(venv_a: Path, tmp_path: Path) -> None:
    """A venv's fingerprint names its prefix, so a copy is a different environment id, but the
    diff between them shows no package risk at all."""
    copy = tmp_path / "copy"
    shutil.copytree(venv_a.parent.parent, copy, symlinks=True)
    (copy / "bin" / "python").unlink()
    (copy / "bin" / "python").symlink_to(venv_a.resolve())
    original, copied = capture(venv_a), capture(copy / "bin" / "python")
    result = diff(original, copied)
    assert [d for d in result.differences if d.subject.startswith("package")] == []


def test_cli_threshold_and_strict(record_a: Path, venv_a: Path, tmp_path: Path) -> None:
    """A record that differs from A only in a pure package's minor version (medium risk)."""
    document = json.loads(record_a.read_text())
    joblib = next(d for d in document["body"]["distributions"] if d["name"] == "joblib")
    assert joblib["pure"] is True
    major, minor, *_ = joblib["version"].split(".")
    joblib["version"] = f"{major}.{int(minor) + 1}.0"
    medium = tmp_path / "medium.json"
    medium.write_text(json.dumps(document))

    def verify_exit(*options: str) -> int:
        result = run_parity(
            "env", "verify", str(medium), "--python", str(venv_a), *options, cwd=tmp_path
        )
        assert "package joblib" in result.stdout  # the table shows it whether it blocks or not
        return result.returncode

    assert verify_exit() == 0
    assert verify_exit("--threshold", "high") == 0
    assert verify_exit("--threshold", "medium") == 1
    assert verify_exit("--threshold", "low") == 1
    assert verify_exit("--strict") == 1
    report = run_parity(
        "env",
        "verify",
        str(medium),
        "--python",
        str(venv_a),
        "--threshold",
        "medium",
        "--json",
        cwd=tmp_path,
    )
    blocking = [d for d in json.loads(report.stdout)["differences"] if d["risk"] != "info"]
    assert [(d["subject"], d["rule"], d["risk"]) for d in blocking] == [
        ("package joblib", "package.pure.minor", "medium")
    ]
    bad = run_parity("env", "verify", str(medium), "--threshold", "severe", cwd=tmp_path)
    assert bad.returncode == 2


def imported_modules(stderr: str) -> set[str]:
    """Module names from the `-X importtime` lines a command printed on stderr."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_capture_that_only_prints_or_writes_imports_no_database(
    workspace_dir: Path, venv_a: Path, tmp_path: Path
) -> None:
    trace = {"PYTHONPROFILEIMPORTTIME": "1"}
    out = tmp_path / "a.json"
    outside = run_parity(
        "env", "capture", "--python", str(venv_a), "--json", "-o", str(out), cwd=tmp_path, env=trace
    )
    assert outside.returncode == 0
    assert out.is_file()
    assert "sqlalchemy" not in imported_modules(outside.stderr)
    objects = workspace_dir / ".parity" / "objects"
    before = sorted(objects.rglob("*"))
    unstored = run_parity(
        "env", "capture", "--python", str(venv_a), "--no-store", cwd=workspace_dir, env=trace
    )
    assert unstored.returncode == 0, unstored.stderr
    assert "sqlalchemy" not in imported_modules(unstored.stderr)
    assert "not stored" not in unstored.stderr
    assert sorted(objects.rglob("*")) == before
    stored = run_parity("env", "capture", "--python", str(venv_a), cwd=workspace_dir, env=trace)
    assert stored.returncode == 0, stored.stderr
    # Storing writes the index row with stdlib sqlite3 (store.records_direct) in an embedded
    # workspace: no database import either; seeing the module shows the check can fail.
    assert "parity.store.records_direct" in imported_modules(stored.stderr)
    assert "sqlalchemy" not in imported_modules(stored.stderr)
    assert sorted(objects.rglob("*")) != before
