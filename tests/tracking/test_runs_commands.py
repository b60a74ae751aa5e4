"""``parity runs`` and run ids in ``parity env``, through the real command line."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import run_parity
from tests.tracking.conftest import git, make_repo, run_script

TRAIN_SKLEARN = """
import sys
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
import parity

C = float(sys.argv[1])
with parity.start_run(experiment="cancer", name=f"logreg-{C}", params={"C": C}) as run:
    run.use_data("data/cancer.csv")
    frame = pd.read_csv("data/cancer.csv")
    features, target = frame.drop(columns="target"), frame["target"]
    model = LogisticRegression(C=C, max_iter=2000).fit(features, target)
    run.log_metric("accuracy", accuracy_score(target, model.predict(features)))
    run.set_tag("model", "logreg")
    print(run.id)
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Two runs of a scikit-learn script in a dirty repo, on a versioned CSV (made once)."""
    from sklearn.datasets import load_breast_cancer

    repo = make_repo(tmp_path_factory.mktemp("trained") / "repo")
    (repo / "data").mkdir()
    frame = load_breast_cancer(as_frame=True).frame.iloc[:, -6:]  # a few columns and the target
    frame.to_csv(repo / "data" / "cancer.csv", index=False)
    (repo / "train.py").write_text(TRAIN_SKLEARN)  # uncommitted: the repo is dirty
    ids = []
    for c in ("0.01", "1.0"):
        result = run_script(TRAIN_SKLEARN, repo, args=[c])
        assert result.returncode == 0, result.stderr
        ids.append(result.stdout.strip())
    return repo, ids


@pytest.mark.slow
def test_runs_show_reports_what_made_the_model(trained: tuple[Path, list[str]]) -> None:
    repo, (first, _) = trained
    shown = run_parity("runs", "show", first[:16], "--json", cwd=repo)
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert view["status"] == "finished"
    assert view["params"] == {"C": "0.01"}
    assert 0.5 < view["metrics"]["accuracy"] <= 1.0
    assert view["code"]["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert view["code"]["dirty"] is True
    assert len(view["environment_id"]) == 64
    pointer = (repo / "data" / "cancer.csv.parity").read_text()
    [link] = view["inputs"]
    assert link["path"] == "data/cancer.csv"
    assert link["data_version"] in pointer

    text = run_parity("runs", "show", first[:16], cwd=repo).stdout
    assert f"commit {view['code']['commit']}" in text
    assert "dirty" in text
    assert f"environment  {view['environment_id']}" in text
    assert f"input        data/cancer.csv  data {link['data_version']}" in text
    assert "accuracy" in text


@pytest.mark.slow
def test_list_filter_sort_compare_delete_restore(trained: tuple[Path, list[str]]) -> None:
    repo, (low_c, high_c) = trained

    def listed(*args: str) -> list[str]:
        result = run_parity("runs", "list", "--json", *args, cwd=repo)
        assert result.returncode == 0, result.stderr
        return [run["id"] for run in json.loads(result.stdout)]

    assert listed() == [high_c, low_c]
    assert listed("--sort", "params.C") == [low_c, high_c]
    assert listed("--filter", "params.C < 0.5 or tags.model = 'none'") == [low_c]
    assert listed("--filter", "not params.C < 0.5 and tags.model = 'logreg'") == [high_c]
    assert listed("--experiment", "other") == []
    table = run_parity("runs", "list", "--sort", "-metrics.accuracy", cwd=repo).stdout
    assert "logreg-1.0" in table
    assert "accuracy=" in table

    unknown = run_parity("runs", "list", "--filter", "metric_s.acc > 1", cwd=repo)
    assert unknown.returncode == 2
    assert "keys start with metrics., params., tags., attributes." in unknown.stderr
    bad_sort = run_parity("runs", "list", "--sort", "-colour", cwd=repo)
    assert bad_sort.returncode == 2

    compared = json.loads(run_parity("runs", "compare", low_c, high_c, "--json", cwd=repo).stdout)
    assert compared["params"] == [{"key": "C", "values": ["0.01", "1.0"], "differs": True}]
    assert [row["differs"] for row in compared["inputs"]] == [False]
    assert compared["environments"][0]["identical"] is True
    text = run_parity("runs", "compare", low_c, high_c, cwd=repo).stdout
    assert "identical" in text
    assert "0.01" in text

    assert run_parity("runs", "delete", high_c, cwd=repo).returncode == 0
    assert listed() == [low_c]
    assert listed("--deleted") == [high_c]
    assert run_parity("runs", "restore", high_c[:16], cwd=repo).returncode == 0
    assert listed() == [high_c, low_c]
    assert run_parity("runs", "show", "abcdef12", cwd=repo).returncode == 3


@pytest.mark.slow
def test_env_commands_take_run_ids(trained: tuple[Path, list[str]]) -> None:
    repo, (first, second) = trained
    diff = run_parity("env", "diff", first, second[:16], cwd=repo)
    assert diff.returncode == 0, diff.stderr
    assert diff.stdout.strip() == "identical"
    shown = json.loads(run_parity("env", "show", first[:16], "--json", cwd=repo).stdout)
    view = json.loads(run_parity("runs", "show", first, "--json", cwd=repo).stdout)
    assert shown["id"] == view["environment_id"]


@pytest.mark.slow
def test_runs_show_says_where_a_teammates_code_record_lives(repo: Path, tmp_path: Path) -> None:
    # Alice's run stores its code record in her object store; Bob shares the database only.
    started = run_script(
        "import parity\nwith parity.start_run(experiment='team') as run:\n    print(run.id)\n",
        repo,
        env={"PARITY_USER": "alice"},
    )
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.strip()
    own = json.loads(run_parity("runs", "show", run_id, "--json", cwd=repo).stdout)
    assert own["code"]["commit"] == git(repo, "rev-parse", "HEAD").strip()
    bobs_objects = tmp_path / "bob-objects"
    bobs_objects.mkdir()
    as_bob = {"PARITY_OBJECTS_URL": str(bobs_objects)}
    # The database keeps a copy of the code state: Bob reads it there.
    copied = run_parity("runs", "show", run_id, cwd=repo, env=as_bob)
    assert copied.returncode == 0, copied.stderr
    assert f"code         commit {own['code']['commit']}  branch main" in copied.stdout
    # A run recorded before the database kept copies (migration t004) has only the record.
    with closing(sqlite3.connect(repo / ".parity" / "parity.db")) as database, database:
        database.execute("DELETE FROM code_states")
    shown = run_parity("runs", "show", run_id, cwd=repo, env=as_bob)
    assert shown.returncode == 0, shown.stderr
    code_line = next(line for line in shown.stdout.splitlines() if line.startswith("code"))
    assert code_line.split(maxsplit=1)[1] == (
        f"record {own['code']['id'][:12]} is not available here (not in {bobs_objects.as_uri()}): "
        f"it is in the object store of {own['user']} on {own['host']}"
    )
    assert "commit -" not in shown.stdout
    view = json.loads(run_parity("runs", "show", run_id, "--json", cwd=repo, env=as_bob).stdout)
    assert view["code"]["missing"] is True
    assert view["code"]["looked_in"] == bobs_objects.as_uri()
