"""A git repository versioned by the real DVC over three commits, and what DVC checks out at each.

DVC runs from a tool venv (``benchmarks/_support.tool_venv``, the pin benchmarks/data.py uses),
never from Parity's lock. Each commit changes a file (``data/data.csv``), a folder
(``data/images``) and reruns a one-stage pipeline (``dvc repro``: ``model.txt`` from the csv).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks._support import tool_venv

DVC_PIN = "dvc==3.67.*"  # as benchmarks/data.py pins it
TRACKED = ("data/data.csv", "data/images", "model.txt")

TRAIN = """\
import yaml
lr = yaml.safe_load(open("params.yaml"))["lr"]
rows = open("data/data.csv").read()
open("model.txt", "w").write(f"lr={lr}\\n" + rows.upper())
"""

# Each commit: data.csv's text, the images folder (relative path -> bytes or None to delete), lr.
COMMITS: list[tuple[str, dict[str, bytes | None], float]] = [
    (
        "a,b\n1,2\n",
        {"1.txt": b"img one\n", "sub/2.txt": b"img two\n", "raw.bin": bytes(range(256)) * 40},
        0.1,
    ),
    ("a,b\n1,2\n3,4\n", {"3.txt": b"img three\n", "1.txt": b"img one, changed\n"}, 0.2),
    ("a,b\n5,6\r\n", {"sub/2.txt": None, "sub/deep/4.txt": b"four\n"}, 0.3),
]


@dataclass(frozen=True)
class DvcProject:
    root: Path
    remote: Path
    commits: list[str]  # oldest first


def dvc_command() -> list[str]:
    return [str(tool_venv("dvc", DVC_PIN).parent / "dvc")]


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    env.update(
        GIT_AUTHOR_NAME="Ada",
        GIT_AUTHOR_EMAIL="ada@example.org",
        GIT_COMMITTER_NAME="Ada",
        GIT_COMMITTER_EMAIL="ada@example.org",
        DVC_NO_ANALYTICS="1",
        DVC_SITE_CACHE_DIR=str(Path(env.get("TMPDIR", "/tmp")) / "dvc-site-cache-parity-tests"),
    )
    return env


def run(args: list[str], cwd: Path) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=_environment(), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def build(root: Path) -> DvcProject:
    """The repository at ``root`` (created), with a local DVC remote beside it, pushed."""
    dvc = dvc_command()
    remote = root.parent / f"{root.name}-remote"
    root.mkdir(parents=True)
    run(["git", "init", "-q", "-b", "main"], root)
    run([*dvc, "init", "-q"], root)
    # What 'dvc config core.autostage true' and 'dvc remote add -d local REMOTE' write (each
    # DVC start costs seconds on a shared machine), and what 'dvc stage add' writes.
    (root / ".dvc" / "config").write_text(
        f"[core]\n    autostage = true\n    remote = local\n['remote \"local\"']\n"
        f"    url = {remote}\n"
    )
    (root / "dvc.yaml").write_text(
        "stages:\n  train:\n"
        f"    cmd: {sys.executable} train.py\n"
        "    deps:\n    - data/data.csv\n    - train.py\n"
        "    params:\n    - lr\n"
        "    outs:\n    - model.txt\n"
    )
    (root / "train.py").write_text(TRAIN)
    commits = []
    for number, (csv, images, lr) in enumerate(COMMITS):
        data = root / "data"
        (data / "images").mkdir(parents=True, exist_ok=True)
        (data / "data.csv").write_bytes(csv.encode())
        for name, content in images.items():
            path = data / "images" / name
            if content is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
        (root / "params.yaml").write_text(f"lr: {lr}\n")
        run([*dvc, "add", "-q", "data/data.csv", "data/images"], root)
        run([*dvc, "repro", "-q"], root)
        run(["git", "add", "-A"], root)
        run(["git", "commit", "-q", "-m", f"version {number + 1}"], root)
        commits.append(run(["git", "rev-parse", "HEAD"], root).strip())
    run([*dvc, "push", "-q", "--all-commits"], root)
    return DvcProject(root, remote, commits)


def tree_bytes(root: Path, paths: tuple[str, ...] = TRACKED) -> dict[str, bytes]:
    """Every file under ``paths`` (files or folders) → its bytes, keyed by path from ``root``."""
    found: dict[str, bytes] = {}
    for name in paths:
        path = root / name
        if path.is_file():
            found[name] = path.read_bytes()
            continue
        for file in sorted(path.rglob("*")):
            if file.is_file():
                found[file.relative_to(root).as_posix()] = file.read_bytes()
    return found


def dvc_checkouts(project: DvcProject) -> dict[str, dict[str, bytes]]:
    """What ``dvc checkout`` gives at each commit (in a clone, so ``project`` is left alone)."""
    clone = project.root.parent / f"{project.root.name}-dvc-checkouts"
    shutil.copytree(project.root, clone, symlinks=True)
    try:
        expected = {}
        for commit in project.commits:
            run(["git", "checkout", "-q", commit], clone)
            run([*dvc_command(), "checkout", "-q", "--force"], clone)
            expected[commit] = tree_bytes(clone)
        return expected
    finally:
        shutil.rmtree(clone, ignore_errors=True)


def copy_project(project: DvcProject, root: Path) -> DvcProject:
    """A copy of ``project`` (repository and remote) at ``root``, for a test to change."""
    remote = root.parent / f"{root.name}-remote"
    shutil.copytree(project.root, root, symlinks=True)
    shutil.copytree(project.remote, remote)
    config = root / ".dvc" / "config"
    text = re.sub(r"(?m)^(\s*url\s*=).*$", lambda m: f"{m[1]} {remote}", config.read_text())
    config.write_text(text)
    return DvcProject(root, remote, project.commits)
