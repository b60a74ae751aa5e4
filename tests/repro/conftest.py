"""Repro fixtures: a git repository with a workspace, a versioned table and training scripts.

The scripts train small scikit-learn models in a tracked run, as a user's would; a repro re-runs
them in a checkout of their commit, in this test's own venv (``--venv`` an existing venv is
used as it is), so no environment is restored here (the slow tests do that).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.api import data
from parity.workspace import Workspace, open_workspace
from tests.tracking.conftest import git, make_repo

TRAIN = """
import sys
import pandas as pd
from sklearn.linear_model import LogisticRegression
import parity

table = sys.argv[1]
with parity.start_run(experiment="repro", name="logreg", params={"C": 0.5}) as run:
    run.use_data(table)
    frame = pd.read_csv(table)
    features, target = frame.drop(columns="target"), frame["target"]
    model = LogisticRegression(C=0.5, max_iter=500).fit(features, target)
    run.log_metric("accuracy", float(model.score(features, target)))
    run.log_model(model, "model", input_example=features.head(5))
    print(run.id)
"""

# No seed anywhere: every run splits and grows its trees another way.
FOREST = """
import sys
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
import parity

table = sys.argv[1]
with parity.start_run(experiment="repro", name="forest") as run:
    run.use_data(table)
    frame = pd.read_csv(table)
    features, target = frame.drop(columns="target"), frame["target"]
    x_train, x_test, y_train, y_test = train_test_split(features, target, test_size=0.5)
    model = RandomForestClassifier(n_estimators=3, max_depth=2).fit(x_train, y_train)
    run.log_metric("accuracy", float(model.score(x_test, y_test)))
    print(run.id)
"""

TABLE = "data/train.csv"


def write_table(path: Path, rows: int = 300, seed: int = 0) -> None:
    import pandas as pd
    from sklearn.datasets import make_classification

    features, target = make_classification(
        n_samples=rows, n_features=5, n_informative=3, random_state=seed
    )
    frame = pd.DataFrame(features, columns=[f"x{i}" for i in range(5)])
    frame["target"] = target
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository whose committed code trains on a versioned table (its pointer in git)."""
    root = make_repo(tmp_path / "project")
    (root / "train.py").write_text(TRAIN)
    (root / "forest.py").write_text(FOREST)
    write_table(root / TABLE)
    with open_workspace(root, environ={}) as workspace:
        data.add(root / TABLE, workspace=workspace)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "train")
    return root


@pytest.fixture
def workspace(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.chdir(project)
    opened = open_workspace(project, environ={})
    yield opened
    opened.close()


def train(project: Path, script: str = "train.py") -> str:
    """Run a training script as its user would; returns the id of the run it printed."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    done = subprocess.run(
        [sys.executable, script, TABLE],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-1]


THIS_VENV = Path(sys.prefix)
