"""Capture from a target interpreter that does not have Parity installed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from parity.core.errors import UsageError
from parity.env import capture
from tests.env.conftest import SKLEARN_A, build_venv


def test_target_has_no_parity(venv_a: Path) -> None:
    result = subprocess.run(
        [str(venv_a), "-c", "import parity"], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "No module named 'parity'" in result.stderr


def test_capture_reads_packages_sources_and_builds(venv_a: Path) -> None:
    environment = capture(venv_a)
    sklearn = environment.distribution("scikit-learn")
    assert sklearn is not None
    assert sklearn.version == SKLEARN_A
    assert sklearn.pure is False
    assert "sklearn" in sklearn.top_level
    assert sklearn.installer == "uv"
    assert sklearn.requested is True
    assert sklearn.source.kind == "index"
    assert any(tag.startswith("cp311-cp311-manylinux") for tag in sklearn.wheel_tags)
    assert sklearn.record_digest is not None
    assert sklearn.record_digest.startswith("sha256:")
    numpy = environment.distribution("numpy")
    assert numpy is not None
    assert isinstance(numpy.requested, bool)  # uv marks every package it installs as requested
    assert environment.distribution("parity-ml") is None
    assert environment.interpreter.is_venv
    assert environment.interpreter.prefix == str(venv_a.parent.parent)
    assert environment.interpreter.version == ".".join(map(str, sys.version_info[:3]))
    assert environment.platform.machine
    assert any(lib.internal_api == "openblas" for lib in environment.native)


def test_capturing_the_same_venv_twice_gives_the_same_id(venv_a: Path) -> None:
    assert capture(venv_a).id == capture(venv_a).id


def test_current_interpreter_in_process_matches_a_subprocess_capture() -> None:
    in_process = capture()
    subprocess_capture = capture(Path(sys.executable), deep=False)
    assert in_process.id == subprocess_capture.id


def test_direct_url_sources_are_recorded(tmp_path: Path) -> None:
    project = tmp_path / "localpkg"
    (project / "localpkg").mkdir(parents=True)
    (project / "localpkg" / "__init__.py").write_text("VALUE = 1\n")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "localpkg"\nversion = "0.3.0"\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    python = build_venv(tmp_path / "venv", "-e", str(project))
    dist = capture(python).distribution("localpkg")
    assert dist is not None
    assert dist.source.kind == "editable"
    assert dist.source.url == project.as_uri()
    assert dist.top_level == ("localpkg",)


def test_a_missing_interpreter_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no interpreter at"):
        capture(tmp_path / "nope" / "python")


def test_probe_output_is_json_with_the_record_fields(venv_a: Path) -> None:
    from parity.env.capture import PROBE_SOURCE

    output = subprocess.run(
        [str(venv_a), "-c", PROBE_SOURCE], capture_output=True, text=True, check=True
    ).stdout
    document = json.loads(output)
    assert set(document) == {
        "interpreter",
        "platform",
        "distributions",
        "native",
        "accelerators",
        "numerics",
        "deep",
    }
