"""The registry through the real `parity models` command."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from parity.registry.saving import save_model
from parity.workspace import open_workspace
from tests.conftest import IN_CI, run_parity


class Doubler:
    def predict(self, rows: object) -> object:
        return np.asarray(rows)[:, 0] * 2


@pytest.fixture
def model_ids(workspace_dir: Path) -> list[str]:
    workspace = open_workspace(workspace_dir, environ={})
    try:
        rows = np.array([[1.0], [2.0]])
        first, _ = save_model(Doubler(), workspace.records, 1, input_example=rows)
        second, _ = save_model(Doubler(), workspace.records, 2, input_example=rows * 3)
    finally:
        workspace.close()
    return [first, second]


@pytest.mark.slow
def test_promotion_lock_and_history(workspace_dir: Path, model_ids: list[str]) -> None:
    alice = {"PARITY_USER": "alice"}

    def parity(*args: str, user: dict[str, str] = alice) -> subprocess.CompletedProcess[str]:
        return run_parity(*args, cwd=workspace_dir, env=user)

    for model_id in model_ids:
        result = parity("models", "register", model_id[:10], "--name", "bc")
        assert result.returncode == 0, result.stderr
    assert parity("models", "alias", "bc", "1", "production", "--reason", "launch").returncode == 0
    assert parity("models", "lock", "bc", "1", "--reason", "serving").returncode == 0

    config = workspace_dir / ".parity" / "config.toml"
    config.write_text(config.read_text() + '\n[registry]\nadmins = ["root-admin"]\n')

    moved = parity("models", "alias", "bc", "2", "production", "--reason", "newer")
    assert moved.returncode == 4
    assert "bc/1 is locked: cannot move alias 'production'" in moved.stderr
    not_admin = parity("models", "alias", "bc", "2", "production", "--reason", "x", "--force")
    assert not_admin.returncode == 4
    deleted = parity("models", "delete", "bc", "1")
    assert deleted.returncode == 4

    admin = {"PARITY_USER": "root-admin"}
    forced = parity(
        "models", "alias", "bc", "2", "production", "--reason", "hotfix", "--force", user=admin
    )
    assert forced.returncode == 0, forced.stderr

    shown = json.loads(parity("models", "show", "bc@production", "--json").stdout)
    assert shown["version"] == 2
    assert shown["record"]["flavor"] == "pyfunc"

    history = json.loads(parity("models", "history", "bc", "--json").stdout)
    steps = [(e["action"], e["version"], e["actor"], e["forced"]) for e in history]
    assert steps == [
        ("register", 1, "alice", False),
        ("register", 2, "alice", False),
        ("alias", 1, "alice", False),
        ("lock", 1, "alice", False),
        ("alias", 2, "root-admin", True),
    ]
    table = parity("models", "history", "bc").stdout
    assert "hotfix" in table
    assert "alias (forced)" in table


@pytest.mark.slow
def test_every_command_on_one_version_takes_a_reference_or_name_and_version(
    workspace_dir: Path, model_ids: list[str]
) -> None:
    config = workspace_dir / ".parity" / "config.toml"
    config.write_text(config.read_text() + '\n[registry]\nadmins = ["alice"]\n')

    def parity(*args: str) -> subprocess.CompletedProcess[str]:
        return run_parity(*args, cwd=workspace_dir, env={"PARITY_USER": "alice"})

    for model_id in model_ids:
        assert parity("models", "register", model_id[:10], "--name", "bc").returncode == 0
    steps = [
        (("alias", "bc/1", "staging", "-r", "qa"), "bc@staging → bc/1"),
        (("alias", "bc@staging", "production", "-r", "launch"), "bc@production → bc/1"),
        (("alias", "bc", "2", "canary", "-r", "try"), "bc@canary → bc/2"),
        (("lock", "bc@production", "-r", "serving"), "locked bc/1"),
        (("unlock", "bc/1"), "unlocked bc/1"),
        (("lock", "bc", "2"), "locked bc/2"),
        (("unlock", "bc@canary"), "unlocked bc/2"),
        (("unalias", "bc@canary", "-r", "done"), "removed bc@canary"),
        (("unalias", "bc", "staging", "-r", "done"), "removed bc@staging"),
        (("delete", "bc/2", "-r", "retired"), "deleted bc/2"),
    ]
    for args, said in steps:
        result = parity("models", *args)
        assert result.returncode == 0, (args, result.stderr)
        assert said in result.stdout, args
    history = json.loads(parity("models", "history", "bc", "--json").stdout)
    assert [(e["action"], e["version"]) for e in history[2:]] == [
        ("alias", 1),
        ("alias", 1),
        ("alias", 2),
        ("lock", 1),
        ("unlock", 1),
        ("lock", 2),
        ("unlock", 2),
        ("unalias", 2),
        ("unalias", 1),
        ("delete", 2),
    ]
    vague = parity("models", "lock", "bc")
    assert vague.returncode == 2
    assert "give bc/VERSION, bc@ALIAS, or bc VERSION" in vague.stderr
    both = parity("models", "delete", "bc/1", "1")
    assert both.returncode == 2
    assert parity("models", "lock", "bc@nope").returncode == 3


def test_unknown_model_exits_3(workspace_dir: Path) -> None:
    result = run_parity("models", "show", "nope@production", cwd=workspace_dir)
    assert result.returncode == 3
    assert "no model named 'nope'" in result.stderr


@pytest.mark.slow
def test_list(workspace_dir: Path, model_ids: list[str]) -> None:
    assert "No registered models yet." in run_parity("models", "list", cwd=workspace_dir).stdout
    run_parity("models", "register", model_ids[0], "--name", "bc", cwd=workspace_dir)
    listed = json.loads(run_parity("models", "list", "--json", cwd=workspace_dir).stdout)
    assert [m["name"] for m in listed] == ["bc"]


@pytest.mark.slow
def test_locked_version_is_deleted_only_by_an_admin_with_force(
    workspace_dir: Path, model_ids: list[str]
) -> None:
    config = workspace_dir / ".parity" / "config.toml"
    config.write_text(config.read_text() + '\n[registry]\nadmins = ["root-admin"]\n')
    alice, admin = {"PARITY_USER": "alice"}, {"PARITY_USER": "root-admin"}

    def parity(*args: str, user: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return run_parity(*args, cwd=workspace_dir, env=user)

    assert parity("models", "register", model_ids[0], "--name", "bc", user=alice).returncode == 0
    assert parity("models", "lock", "bc", "1", "--reason", "audit", user=alice).returncode == 0
    refused = parity("models", "delete", "bc", "1", "--force", user=alice)
    assert refused.returncode == 4
    assert "only an admin may force" in refused.stderr
    unlock = parity("models", "unlock", "bc", "1", user=alice)
    assert unlock.returncode == 4
    assert "only an admin may unlock bc/1" in unlock.stderr
    deleted = parity("models", "delete", "bc", "1", "--force", "-r", "retired", user=admin)
    assert deleted.returncode == 0, deleted.stderr
    assert parity("models", "show", "bc/1", user=alice).returncode == 3
    history = json.loads(parity("models", "history", "bc", "--json", user=alice).stdout)
    last = history[-1]
    assert (last["action"], last["actor"], last["forced"], last["reason"]) == (
        "delete",
        "root-admin",
        True,
        "retired",
    )
    assert last["before"]["locked"] is True
    assert [e["action"] for e in history] == ["register", "lock", "delete"]


# The whole story: a tracked training run, its model registered from the run, lineage and compare.


def _git(root: Path, *args: str) -> str:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    done = subprocess.run(
        ["git", *identity, *args], cwd=root, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@dataclass
class Trained:
    root: Path
    model: Any
    features: Any
    commit: str
    runs: list[str]
    data_versions: list[str]
    environment_id: str


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, breast_cancer: tuple[Any, Any]) -> Trained:
    """Two tracked runs in a git repository: the second (a child of the first) on a subset.

    Shared by the tests below (training is the slow part); each registers its own model name.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import parity
    from parity.workspace import init_workspace

    root = tmp_path_factory.mktemp("trained") / "project"
    (root / "data").mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    workspace, _ = init_workspace(root, environ={})
    _, features = breast_cancer
    table = features.assign(target=breast_cancer[0].predict(features))
    table.to_csv(root / "data" / "train.csv", index=False)
    table.iloc[:300].to_csv(root / "data" / "small.csv", index=False)
    (root / ".gitignore").write_text("data/\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "start")

    runs, versions, models = [], [], []
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)  # the runs capture the code state of the current folder
        patch.delenv("PARITY_RUN_ID", raising=False)
        for data, c in (("data/train.csv", 1.0), ("data/small.csv", 0.1)):
            parent = runs[0] if runs else None
            with parity.start_run(
                experiment="bc", params={"C": c}, parent=parent, workspace=workspace
            ) as run:
                versions.append(run.use_data(data))
                frame = pd.read_csv(root / data)
                x, y = frame.drop(columns="target"), frame["target"]
                model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500))
                model.fit(x, y)
                run.log_metric("accuracy", float(model.score(x, y)))
                run.log_model(model, "model", input_example=x)
                runs.append(run.id)
                models.append(model)
                environment_id = run.environment_id
    workspace.close()
    assert environment_id is not None
    return Trained(
        root, models[0], features, _git(root, "rev-parse", "HEAD"), runs, versions, environment_id
    )


@pytest.mark.slow
def test_train_log_register_alias_and_load_predicts_identically(
    trained: Trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    import parity

    root = trained.root
    monkeypatch.chdir(root)  # parity.load_model finds the workspace from here
    registered = run_parity("models", "register", trained.runs[0], "--name", "bc", cwd=root)
    assert registered.returncode == 0, registered.stderr
    listed = run_parity("runs", "list", "--limit", "100", cwd=root).stdout  # the same prefix
    prefix = registered.stdout.split(", run ")[1].split(")")[0]
    assert trained.runs[0].startswith(prefix)
    assert f"│ {prefix} " in listed
    alias = run_parity("models", "alias", "bc", "1", "production", "-r", "launch", cwd=root)
    assert alias.returncode == 0, alias.stderr

    shown = json.loads(run_parity("models", "show", "bc@production", "--json", cwd=root).stdout)
    assert shown["run_id"] == trained.runs[0]
    assert shown["record"]["environment_id"] == trained.environment_id
    assert "scikit-learn" in shown["record"]["requirements"]

    loaded = parity.load_model("bc@production")
    rows = trained.features
    assert np.array_equal(loaded.predict(rows), trained.model.predict(rows))  # type: ignore[attr-defined]
    assert np.array_equal(loaded.predict_proba(rows), trained.model.predict_proba(rows))  # type: ignore[attr-defined]
    # The logged, unregistered model loads by RUN:PATH too.
    by_run = parity.load_model(f"{trained.runs[0][:12]}:model")
    assert np.array_equal(by_run.predict(rows), trained.model.predict(rows))  # type: ignore[attr-defined]
    verified = run_parity("models", "verify", "bc@production", cwd=root)
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.slow
def test_a_dockerfile_exported_for_a_model_serves_it(trained: Trained) -> None:
    root = trained.root
    assert run_parity("models", "register", trained.runs[0], "-n", "img", cwd=root).returncode == 0
    assert run_parity("models", "alias", "img/1", "prod", "-r", "ship", cwd=root).returncode == 0
    out = root / "deploy" / "Dockerfile"
    # This test venv has Parity as an editable install: left out, the image could not serve.
    export = ("env", "export", "--format", "dockerfile", "--no-hashes", "-o", str(out))
    result = run_parity(*export[:2], "img@prod", *export[2:], "--exclude", "parity-ml", cwd=root)
    assert result.returncode == 1
    assert "the image cannot serve img@prod: it would lack parity-ml" in result.stderr
    serving = ["parity", "serve", "img@prod", "--host", "0.0.0.0", "--port", "8080"]
    assert out.read_text().rstrip().splitlines()[-1] == f"CMD {json.dumps(serving)}"
    # The same environment named by its id is only an environment: no server, no such check.
    by_id = run_parity(
        *export[:2], trained.environment_id[:12], *export[2:], "--exclude", "parity-ml", cwd=root
    )
    assert by_id.returncode == 0, by_id.stderr
    assert out.read_text().rstrip().endswith('CMD ["python"]')


@pytest.mark.slow
def test_register_from_a_run_path_and_what_is_refused(trained: Trained) -> None:
    root, run = trained.root, trained.runs[1]
    result = run_parity("models", "register", f"{run[:10]}:model", "--name", "from-path", cwd=root)
    assert result.returncode == 0, result.stderr
    assert (
        json.loads(run_parity("models", "show", "from-path/1", "--json", cwd=root).stdout)["run_id"]
        == run
    )
    missing = run_parity("models", "register", f"{run[:10]}:nope", "--name", "from-path", cwd=root)
    assert missing.returncode == 3
    assert "logged no model at 'nope'" in missing.stderr
    assert "its models: model" in missing.stderr
    unknown = run_parity("models", "register", "abcdef0123", "--name", "from-path", cwd=root)
    assert unknown.returncode == 3
    assert "no run or logged model has an id starting with abcdef0123" in unknown.stderr
    version = run_parity("models", "register", "bc/1", "--name", "from-path", cwd=root)
    assert version.returncode == 2
    assert "'bc/1' names no run or logged model" in version.stderr
    # A bare model id is traced back to the run that logged it, so lineage stays whole.
    shown = json.loads(run_parity("models", "show", "from-path/1", "--json", cwd=root).stdout)
    by_id = run_parity("models", "register", shown["model_id"][:12], "--name", "by-id", cwd=root)
    assert by_id.returncode == 0, by_id.stderr
    registered = json.loads(run_parity("models", "show", "by-id/1", "--json", cwd=root).stdout)
    assert registered["run_id"] == run


@pytest.mark.slow
def test_lineage_names_run_commit_environment_data_and_parent(trained: Trained) -> None:
    root = trained.root
    for run in trained.runs:
        assert run_parity("models", "register", run, "--name", "lineage", cwd=root).returncode == 0
    result = run_parity("models", "lineage", "lineage/2", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    graph = json.loads(result.stdout)
    summary = graph["summary"]
    # lineage/2 was made by the second run, a child of the first: both runs, both data versions.
    assert summary["run_ids"] == [trained.runs[1], trained.runs[0]]
    assert summary["commits"] == [trained.commit]
    assert summary["environment_ids"] == [trained.environment_id]
    assert summary["data_version_ids"] == [trained.data_versions[1], trained.data_versions[0]]
    text = result.stdout
    for needle in (*trained.runs, trained.commit, trained.environment_id, *trained.data_versions):
        assert needle in text
    runs = {n["attributes"]["id"]: n["attributes"] for n in graph["nodes"] if n["kind"] == "run"}
    assert runs[trained.runs[1]]["params"] == {"C": "0.1"}
    assert runs[trained.runs[1]]["parent_id"] == trained.runs[0]
    assert runs[trained.runs[1]]["status"] == "finished"

    tree = run_parity("models", "lineage", "lineage/2", cwd=root)
    assert tree.returncode == 0, tree.stderr
    assert f"code {trained.commit[:12]} on main" in tree.stdout
    assert "child of → run" in tree.stdout

    from parity.api._lineage import training_data_versions

    workspace = open_workspace(root, environ={})
    try:
        version = workspace.registry.resolve("lineage/2")
        assert training_data_versions(workspace, version) == (trained.data_versions[1],)
    finally:
        workspace.close()

    # A logged model that was never registered has a lineage too, rooted at the model.
    logged = run_parity("models", "lineage", f"{trained.runs[0][:12]}:model", "--json", cwd=root)
    assert logged.returncode == 0, logged.stderr
    unregistered = json.loads(logged.stdout)
    assert unregistered["root"].startswith("model:")
    assert unregistered["summary"]["model_version"] is None
    assert unregistered["summary"]["run_ids"] == [trained.runs[0]]


def test_lineage_dot_parses_with_graphviz(trained: Trained) -> None:
    dot = shutil.which("dot")
    if dot is None:
        if IN_CI:
            pytest.fail("CI must have Graphviz: .ci/run installs it")
        pytest.skip("Graphviz 'dot' is not installed (apt-get install graphviz)")
    root = trained.root
    run_parity("models", "register", trained.runs[1], "--name", "dot", cwd=root)
    source = run_parity("models", "lineage", "dot/1", "--dot", cwd=root)
    assert source.returncode == 0, source.stderr
    svg = subprocess.run(
        [dot, "-Tsvg"], input=source.stdout, capture_output=True, text=True, check=False
    )
    assert svg.returncode == 0, svg.stderr
    assert "<svg" in svg.stdout
    assert f"run: {trained.runs[0][:12]}" in svg.stdout  # the parent run is in the picture


@pytest.mark.slow
def test_compare_shows_params_metrics_and_data_differences(trained: Trained) -> None:
    root = trained.root
    for run in trained.runs:
        run_parity("models", "register", run, "--name", "compare", cwd=root)
    result = run_parity("models", "compare", "compare/1", "compare/2", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert not report["identical"]
    params = {c["key"]: (c["a"], c["b"]) for c in report["params"]}
    assert params == {"C": ("1.0", "0.1")}
    metrics = {c["key"]: c["differs"] for c in report["metrics"]}
    assert metrics == {"accuracy": True}
    data = {c["key"]: (c["a"], c["b"]) for c in report["data"]}
    assert data == {
        "data/small.csv": (None, trained.data_versions[1]),
        "data/train.csv": (trained.data_versions[0], None),
    }
    assert report["environment"]["differences"] == []
    table = run_parity("models", "compare", "compare/1", "compare/2", cwd=root)
    assert table.returncode == 0
    assert "environment: identical" in table.stdout
    assert "≠" in table.stdout


def test_drift_without_reference_uses_the_runs_training_data(trained: Trained) -> None:
    from starlette.testclient import TestClient

    from parity.api import serving
    from parity.serve.app import create_app
    from parity.serve.state import Readiness

    root = trained.root
    run_parity("models", "register", trained.runs[0], "--name", "drift", cwd=root)
    rng = np.random.default_rng(5)
    served = trained.features.iloc[rng.integers(0, len(trained.features), 2_000)]
    served = served.reset_index(drop=True)
    served["mean texture"] += 0.5 * trained.features["mean texture"].std()
    workspace = open_workspace(root, environ={})
    state = serving.load("drift/1", readiness=Readiness(True), sample_rate=1.0, workspace=workspace)
    client = TestClient(create_app(state))
    for start in range(0, len(served), 250):
        chunk = served.iloc[start : start + 250].to_dict(orient="records")
        assert client.post("/predict", json=chunk).status_code == 200
    state.close()
    workspace.close()
    result = run_parity("monitor", "drift", "drift/1", "--json", cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert json.loads(result.stdout)["drifted"] == ["mean texture"]


def test_log_model_can_register_at_once(trained: Trained, monkeypatch: pytest.MonkeyPatch) -> None:
    import parity

    monkeypatch.chdir(trained.root)
    workspace = open_workspace(trained.root, environ={})
    try:
        with parity.start_run(experiment="bc", workspace=workspace) as run:
            model_id = run.log_model(
                trained.model,
                "best",
                input_example=trained.features,
                registered_model_name="at-once",
            )
        version = workspace.registry.resolve("at-once")
        assert (version.version, version.model_id, version.run_id) == (1, model_id, run.id)
        artifacts = {a.path: a for a in parity.runs.get(run.id, workspace=workspace).artifacts}
        assert artifacts["best"].kind == "model"
        assert artifacts["best"].digest == model_id
        assert artifacts["best"].size is not None
        assert artifacts["best"].size > 0
    finally:
        workspace.close()


def test_compare_names_the_environment_difference(
    workspace_dir: Path, breast_cancer: tuple[Any, Any]
) -> None:
    """One model made here, and again in an environment one scikit-learn minor back."""
    from parity.api import environments, models
    from parity.env.records import store_environment

    model, features = breast_cancer
    examples = Path(__file__).resolve().parents[2] / "examples"
    drifted = environments.get(examples / "drifted_environment.json")
    workspace = open_workspace(workspace_dir, environ={})
    try:
        here, _ = models.save(model, input_example=features, workspace=workspace)
        elsewhere_env = store_environment(workspace.records, drifted, 1)
        elsewhere, _ = models.save(
            model, input_example=features, environment_id=elsewhere_env, workspace=workspace
        )
        actor = workspace.actor()
        workspace.registry.register("bc", here, actor)
        workspace.registry.register("bc", elsewhere, actor)
    finally:
        workspace.close()
    result = run_parity("models", "compare", "bc/1", "bc/2", "--json", cwd=workspace_dir)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    high = [d for d in report["environment"]["differences"] if d["risk"] == "high"]
    assert [(d["subject"], d["actual"]) for d in high] == [
        ("package scikit-learn", drifted.distribution("scikit-learn").version)  # type: ignore[union-attr]
    ]
    assert report["params"] == report["metrics"] == report["data"] == []  # no runs
    table = run_parity("models", "compare", "bc/1", "bc/2", cwd=workspace_dir)
    assert "package scikit-learn" in table.stdout
