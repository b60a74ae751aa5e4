"""`make demo` end to end, in a copy of the checkout: the model it records can be exported,
restored and served from the exported image (slow: it builds two venvs and trains a model)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV_TOOLS = {"ruff", "mypy", "moto", "pytest", "hypothesis", "import-linter"}


@pytest.mark.slow
def test_the_demo_records_a_model_whose_environment_exports_restores_and_serves(
    tmp_path: Path,
) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    checkout = tmp_path / "checkout"
    for name in listed.stdout.splitlines():
        source = ROOT / name
        if source.is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / name)
    demo = subprocess.run(
        [sys.executable, str(checkout / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    built = checkout / "build" / "demo"
    # Recorded without the dev tools of .venv, with Parity itself pinned by its wheel's hash.
    lock = tomllib.loads((built / "pylock.toml").read_text())
    names = {package["name"] for package in lock["packages"]}
    assert not names & DEV_TOOLS
    assert {"parity-ml", "scikit-learn", "starlette", "uvicorn"} <= names
    assert "excluded" not in lock["tool"]["parity"]
    # The image installs that wheel from beside its Dockerfile and serves the model.
    image = built / "image"
    assert list((image / "wheels").glob("parity_ml-*.whl"))
    command = '["parity", "serve", "bc@production", "--host", "0.0.0.0", "--port", "8080"]'
    assert (image / "Dockerfile").read_text().rstrip().endswith(f"CMD {command}")
    restore = demo.stdout.split("== 8b.", 1)[1].split("== 8c.", 1)[0]
    assert "verified: 0 differences at or above high" in restore
    # The training run re-derived in a fresh venv: identical, in the time of the restore and
    # the training plus at most 2 s of Parity's own work.
    reproduced = demo.stdout.split("== 8c.", 1)[1].split("== 9.", 1)[0]
    verdict = next(line for line in reproduced.splitlines() if line.startswith("verdict: "))
    assert verdict.startswith("verdict: identical ("), reproduced
    own = float(verdict.split("Parity's own ")[1].split(" s)")[0])
    assert own <= 2.0, verdict
    assert "rolled back bc@canary → bc/2" in demo.stdout
    assert "performance degraded: accuracy in the window from" in demo.stdout
    promotion = demo.stdout.split("== 15.", 1)[1]
    assert "cannot move bc@release to bc/3: bc/3 needs 1 more approval and a passing 'ci'" in (
        promotion
    )
    assert "recorded gate 'ci' passed on bc/3" in promotion
    assert "bc@release → bc/3" in promotion
    assert "Demo finished" in demo.stdout
