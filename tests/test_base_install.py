"""`pip install parity-ml` with no extras: the README's first run works, optional parts say what
to install. A real venv with only the base dependencies, built once for this module."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from uv import find_uv_bin

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
# What the README's fragment leaves to the reader: a training loop to call.
README_PRELUDE = """\
import parity

epochs = 3


def train_epoch():
    return 0.25


acc = 0.9
"""


def _readme_tracking_example() -> str:
    """The python block under "### Track a run" in README.md, as a user would paste it."""
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("### Track a run", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "README.md lost its tracking example"
    return match.group(1)


@pytest.fixture(scope="module")
def base_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding Parity and its base dependencies only (no extra)."""
    uv = find_uv_bin()
    folder = tmp_path_factory.mktemp("base-install") / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([uv, "venv", "-q", "--python", base, str(folder)], check=True)
    python = folder / "bin" / "python"
    install = [uv, "pip", "install", "-q", "--python", str(python), "-e", str(ROOT)]
    # uv's cache is warm wherever the dev environment was built: try without the network first.
    if subprocess.run([*install, "--offline"], capture_output=True, check=False).returncode:
        subprocess.run(install, check=True)
    return python


def _run(
    python: Path, *args: str, cwd: Path, path: str = "/usr/bin:/bin"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "UV_"))}
    env["PATH"] = f"{python.parent}:{path}"
    return subprocess.run(
        [str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_base_install_has_no_numpy_pandas_or_uv(base_python: Path, tmp_path: Path) -> None:
    for module in ("numpy", "pandas", "uv"):
        result = _run(base_python, "-c", f"import {module}", cwd=tmp_path)
        assert "ModuleNotFoundError" in result.stderr, module


def test_the_readme_tracking_example_records_its_input(base_python: Path, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("a,b\n1,2\n3,4\n5,6\n")
    (tmp_path / "train.py").write_text(README_PRELUDE + _readme_tracking_example())
    assert _run(base_python, "-m", "parity", "init", cwd=tmp_path).returncode == 0

    result = _run(base_python, "train.py", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    # The profile is skipped with one warning naming the extra; the run itself is complete.
    assert "data/train.csv is not profiled for drift: drift profiles need numpy" in result.stderr
    assert "pip install 'parity-ml[monitor]'" in result.stderr
    listed = _run(base_python, "-m", "parity", "runs", "list", "--json", cwd=tmp_path)
    (run,) = json.loads(listed.stdout)
    shown = _run(base_python, "-m", "parity", "runs", "show", run["id"], "--json", cwd=tmp_path)
    record = json.loads(shown.stdout)
    assert record["status"] == "finished"
    pointer = (tmp_path / "data" / "train.csv.parity").read_text()
    assert record["inputs"] == [
        {"path": "data/train.csv", "data_version": re.findall(r"data_version: (\w+)", pointer)[0]}
    ]
    assert record["metrics"] == {"loss": 0.25, "accuracy": 0.9}


def test_export_without_uv_says_what_to_install(base_python: Path, tmp_path: Path) -> None:
    assert _run(base_python, "-m", "parity", "init", cwd=tmp_path).returncode == 0
    command = ("-m", "parity", "env", "export", "current", "--format", "pylock", "-o", "x.toml")

    result = _run(base_python, *command, cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        "error: exporting or restoring an environment needs uv, which is not installed "
        "(pip install 'parity-ml[uv]', or put uv on PATH)"
    )
    assert not (tmp_path / "x.toml").exists()


def test_a_uv_on_path_serves_when_the_extra_is_missing(base_python: Path, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "uv").symlink_to(find_uv_bin())
    script = "from parity.env.uv_binary import uv_bin; print(uv_bin())"

    result = _run(base_python, "-c", script, cwd=tmp_path, path=f"{tools}:/usr/bin:/bin")

    assert result.stdout.strip() == str(tools / "uv"), result.stderr
