"""The CI examples: valid against the GitHub-workflow and GitLab-CI schemas (check-jsonschema's
own copies, offline), every shell step parses, and the GitHub one's steps, driven here as the
runner would run them (no network), promote a candidate only when every gate passes."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from parity.api import models
from parity.workspace import open_workspace
from tests.gate.reports import assert_valid_junit, markdown_tokens
from tests.tracking.conftest import git

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GITHUB = EXAMPLES / "ci" / "github-actions.yml"
GITLAB = EXAMPLES / "ci" / "gitlab-ci.yml"
BIN = Path(sys.executable).parent
# The steps a local run drives; the others (checkout, setup-python, install, upload) need the
# runner or the network, and this test's venv is the installed environment.
DRIVEN = ("lock", "train", "gate", "repro", "promote")
EXPRESSION = re.compile(r"\$\{\{\s*([a-z]+)\.")


def _break_github(document: dict[str, Any]) -> None:
    del document["jobs"]["train-gate-promote"]["runs-on"]  # every job needs its runner


def _break_gitlab(document: dict[str, Any]) -> None:
    document["gate"]["artifacts"]["when"] = "sometimes"  # on_success, on_failure or always


@pytest.mark.parametrize(
    ("workflow", "schema", "breaking"),
    [
        (GITHUB, "vendor.github-workflows", _break_github),
        (GITLAB, "vendor.gitlab-ci", _break_gitlab),
    ],
)
def test_the_examples_validate_against_their_ci_schemas(
    workflow: Path, schema: str, breaking: Any, tmp_path: Path
) -> None:
    def check(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    done = check(workflow)
    assert done.returncode == 0, done.stdout + done.stderr
    # The check is real: the same file with one thing its schema forbids is refused.
    document = yaml.safe_load(workflow.read_text())
    breaking(document)
    broken = tmp_path / workflow.name
    broken.write_text(yaml.safe_dump(document))
    assert check(broken).returncode == 1


def _github_steps() -> list[dict[str, Any]]:
    document = yaml.safe_load(GITHUB.read_text())
    (job,) = document["jobs"].values()
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def test_every_shell_step_parses_and_uses_only_known_contexts() -> None:
    scripts = [step["run"] for step in _github_steps() if "run" in step]
    gitlab = yaml.safe_load(GITLAB.read_text())
    for job in gitlab.values():
        if isinstance(job, dict):
            scripts += ["\n".join(job.get(key, [])) for key in ("before_script", "script")]
    for script in scripts:
        parsed = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
        assert parsed.returncode == 0, f"{script}\n{parsed.stderr}"
    contexts = set(EXPRESSION.findall(GITHUB.read_text()))
    assert contexts <= {"secrets", "github", "env", "steps", "runner"}
    ids = [step.get("id") for step in _github_steps() if "run" in step]
    assert set(DRIVEN) <= set(ids)


def _project(tmp_path: Path) -> Path:
    """A repository laid out as the example expects, its lock this test's environment."""
    from sklearn.datasets import load_breast_cancer

    root = tmp_path / "model"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "ci@example.com")
    git(root, "config", "user.name", "CI")
    shutil.copy(EXAMPLES / "train.py", root / "train.py")
    shutil.copy(EXAMPLES / "ci" / "parity.toml", root / "parity.toml")
    (root / "data").mkdir()
    load_breast_cancer(as_frame=True).frame.to_csv(root / "data" / "breast_cancer.csv", index=False)
    pins = sorted(
        {f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()}
    )
    (root / "requirements.txt").write_text("\n".join(pins) + "\n")
    for command in (["init"], ["data", "add", "data/breast_cancer.csv"]):
        subprocess.run(
            [str(BIN / "parity"), *command], cwd=root, env=_base_environ(), check=True,
            capture_output=True,
        )  # fmt: skip
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "a model project")
    return root


def _base_environ() -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    environ["PATH"] = f"{BIN}{os.pathsep}{environ.get('PATH', '')}"
    return environ


def _drive(root: Path, run_number: int) -> list[str]:
    """Run the example's steps as GitHub's runner would (bash -eo pipefail, $GITHUB_ENV and
    $GITHUB_STEP_SUMMARY files, job env with unset secrets empty); returns the step ids that
    succeeded, stopping at the first that fails, as a job does."""
    (job,) = yaml.safe_load(GITHUB.read_text())["jobs"].values()
    runner = root.parent / f"runner-{run_number}"
    runner.mkdir()
    environ = _base_environ()
    for name, value in job.get("env", {}).items():
        environ[name] = "" if "${{" in str(value) else str(value)
    environ.update(
        {
            "GITHUB_ENV": str(runner / "env"),
            "GITHUB_STEP_SUMMARY": str(runner / "summary.md"),
            "GITHUB_SHA": f"{run_number:040d}",
            "GITHUB_RUN_ID": str(run_number),
            "REPRO_VENV": sys.prefix,  # the environment it trained in, already here
        }
    )
    (root / "reports").mkdir(exist_ok=True)
    done = []
    for step in job["steps"]:
        if step.get("id") not in DRIVEN:
            continue
        (runner / "env").write_text("")
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=root,
            env=environ,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        (runner / f"{step['id']}.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            return done
        for line in (runner / "env").read_text().splitlines():
            name, _, value = line.partition("=")
            environ[name] = value
        done.append(step["id"])
    return done


def test_the_github_example_promotes_only_when_every_gate_passes(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert _drive(root, 1) == list(DRIVEN)
    with open_workspace(root, environ={}) as workspace:
        production = models.get("bc@production", workspace=workspace)
        assert production.version == 1
    assert_valid_junit((root / "reports" / "gate.xml").read_text())
    assert_valid_junit((root / "reports" / "repro.xml").read_text())
    assert_valid_junit((root / "reports" / "lock.xml").read_text())
    summary = (root.parent / "runner-1" / "summary.md").read_text()
    assert "## ✅ Gate bc release: passed" in summary
    assert "## ✅ Gate repro " in summary
    assert [t.type for t in markdown_tokens(summary)].count("table_open") >= 3
    # A stricter policy, committed: the next candidate fails the gate and is not promoted.
    policy = root / "parity.toml"
    policy.write_text(policy.read_text().replace("min = 0.9\n", "min = 0.999\n"))
    git(root, "commit", "-q", "-am", "demand more accuracy")
    assert _drive(root, 2) == ["lock", "train"]
    gate_log = (root.parent / "runner-2" / "gate.log").read_text()
    assert "::error file=parity.toml,line=1,title=accuracy at least 0.9 (metric)::" in gate_log
    with open_workspace(root, environ={}) as workspace:
        assert models.get("bc@production", workspace=workspace).version == 1
        assert models.get("bc@candidate", workspace=workspace).version == 2
