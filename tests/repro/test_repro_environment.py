"""A repro in a venv whose scikit-learn is one minor version behind the recorded one (slow: it
builds that venv, downloading the older scikit-learn when uv's cache lacks it)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from parity.api import repro
from parity.repro.plan import Expectation
from parity.repro.verdict import Verdict
from parity.workspace import Workspace
from tests.repro.conftest import train


def sklearn_version() -> str:
    import sklearn

    return str(sklearn.__version__)


UV = Path(sys.executable).parent / "uv"


def _venv_one_minor_behind(target: Path) -> str:
    """A venv that sees this one's packages but has its own scikit-learn, one minor back."""
    import sklearn

    major, minor = (int(part) for part in sklearn.__version__.split(".")[:2])
    older = f"{major}.{minor - 1}.*"
    subprocess.run(
        [str(UV), "venv", "--quiet", "--python", sys.executable, str(target)], check=True
    )
    python = target / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    # Processed after the venv's own site-packages: its scikit-learn wins, the rest is ours.
    (Path(site) / "zz_parity_test.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    subprocess.run(
        [str(UV), "pip", "install", "--quiet", "--python", str(python), "--no-deps",
         f"scikit-learn=={older}"],
        check=True,
        timeout=600,
    )  # fmt: skip
    found = subprocess.run(
        [str(python), "-c", "import sklearn; print(sklearn.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert found.startswith(f"{major}.{minor - 1}."), found
    return found


@pytest.mark.slow
def test_scikit_learn_one_minor_off_names_the_environment_first(
    project: Path, workspace: Workspace, tmp_path: Path
) -> None:
    original = train(project)
    venv = tmp_path / "older"
    version = _venv_one_minor_behind(venv)
    plan = repro.plan(original, venv=venv, workspace=workspace)
    assert plan.expectation is Expectation.NOT_EXPECTED
    assert plan.reasons[0].area == "environment"
    assert plan.reasons[0].text.startswith("package scikit-learn: ")
    assert version in plan.reasons[0].text
    report = repro.run(original, venv=venv, workspace=workspace)
    assert report.verdict is not Verdict.COULD_NOT_RUN, report.to_dict()
    assert report.venv == str(venv)
    # Whatever the numbers did (1.8 and 1.9 fit this model alike), the environment comes first:
    # as the likely cause of a difference, or as what differed without changing the result.
    assert report.causes[0].area == "environment"
    assert report.causes[0].text.startswith(f"package scikit-learn: {sklearn_version()} → ")
    assert "(high risk" in report.causes[0].text
