"""The recorded command re-targeted at the checkout and the restored venv."""

from __future__ import annotations

from pathlib import Path

from parity.core.launch import Launch
from parity.repro.command import plan_rerun


def test_the_interpreter_paths_folder_and_numerics_variables_are_moved() -> None:
    repository, checkout, venv = Path("/home/u/proj"), Path("/tmp/x/code"), Path("/v")
    launch = Launch("sub", True, {"OMP_NUM_THREADS": "1"})
    rerun = plan_rerun(
        ["python3.11", "/home/u/proj/sub/train.py", "--data", "data/t.csv", "/etc/hosts"],
        launch,
        repository=repository,
        checkout=checkout,
        workspace_folder=Path("."),
        venv=venv,
        current={"PATH": "/usr/bin", "MKL_NUM_THREADS": "8", "OMP_NUM_THREADS": "4"},
    )
    assert rerun.command == (
        "/v/bin/python",
        "/tmp/x/code/sub/train.py",
        "--data",
        "data/t.csv",
        "/etc/hosts",
    )
    assert rerun.cwd == checkout / "sub"
    environ = rerun.environ(
        {"PATH": "/usr/bin", "MKL_NUM_THREADS": "8", "PARITY_RUN_ID": "x", "HOME": "/h"},
        {"PARITY_WORKSPACE": "/tmp/x/code"},
    )
    assert environ["OMP_NUM_THREADS"] == "1"  # as the run saw it
    assert "MKL_NUM_THREADS" not in environ  # the run did not see it
    assert "PARITY_RUN_ID" not in environ
    assert environ["PATH"] == "/v/bin:/usr/bin"
    assert (environ["HOME"], environ["PARITY_WORKSPACE"]) == ("/h", "/tmp/x/code")


def test_a_run_without_a_launch_runs_from_the_workspace_folder() -> None:
    rerun = plan_rerun(
        ["./train.sh"],
        None,
        repository=Path("/r"),
        checkout=Path("/c"),
        workspace_folder=Path("ml"),
        venv=Path("/v"),
        current={"OMP_NUM_THREADS": "2"},
    )
    assert rerun.command == ("./train.sh",)
    assert rerun.cwd == Path("/c/ml")
    assert rerun.removed == ()  # nothing is known of what it saw: nothing removed


def test_a_forged_launch_passes_no_other_variable_and_stays_in_the_checkout(
    tmp_path: Path,
) -> None:
    """A launch record is data: whoever wrote it may name PYTHONPATH or a folder elsewhere."""
    import pytest

    from parity.core.errors import UsageError

    checkout = tmp_path / "code"
    checkout.mkdir()
    where = {
        "repository": Path("/r"),
        "checkout": checkout,
        "workspace_folder": Path("."),
        "venv": Path("/v"),
        "current": {},
    }
    forged = Launch(
        ".", True, {"PYTHONPATH": "/evil", "LD_PRELOAD": "/e.so", "OMP_NUM_THREADS": "2"}
    )
    rerun = plan_rerun(["python", "train.py"], forged, **where)  # type: ignore[arg-type]
    environ = rerun.environ({}, {})
    assert environ["OMP_NUM_THREADS"] == "2"
    assert "PYTHONPATH" not in environ
    assert "LD_PRELOAD" not in environ
    escaping = Launch("../../../../tmp/outside", True, {})
    with pytest.raises(UsageError, match="is outside its code"):
        plan_rerun(["python", "train.py"], escaping, **where)  # type: ignore[arg-type]
