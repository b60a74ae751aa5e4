"""``parity monitor feedback`` and ``parity monitor performance`` end to end: a classifier
trained in a tracked run that logged its accuracy, served over a real socket with every request
logged, 1,000 predictions, their true labels, then the same labels with 30 % flipped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from parity.api import monitor, runs
from parity.api import serving as api_serving
from parity.core.errors import UsageError
from parity.core.feedback import LabelledPrediction
from parity.monitor.performance import check_performance, split_windows, trained_figures
from parity.serve.app import create_app
from parity.serve.state import Readiness
from parity.workspace import open_workspace
from tests.conftest import run_parity
from tests.serve.live import live_server

SERVED = 1_000


@dataclass(frozen=True)
class Served:
    root: Path
    request_ids: list[str]
    truth: list[int]
    predicted: list[int]
    trained_accuracy: float


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from parity.workspace import init_workspace

    root = tmp_path_factory.mktemp("perf") / "project"
    root.mkdir()
    init_workspace(root)[0].close()
    frame = load_breast_cancer(as_frame=True).frame
    features, target = frame.drop(columns="target"), frame["target"]
    x_train, x_test, y_train, y_test = train_test_split(
        features, target, test_size=0.4, random_state=0, stratify=target
    )
    workspace = open_workspace(root, environ={})
    try:
        with runs.start(experiment="bc", workspace=workspace) as run:
            model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
            model.fit(x_train, y_train)
            accuracy = float((model.predict(x_test) == y_test).mean())
            run.log_metric("val_accuracy", accuracy)
            run.log_metric("train_accuracy", float((model.predict(x_train) == y_train).mean()))
            run.log_model(model, input_example=x_train, registered_model_name="bc")
        state = api_serving.load(
            "bc/1", readiness=Readiness(True), sample_rate=1.0, workspace=workspace
        )
        rng = np.random.default_rng(7)
        picks = rng.integers(0, len(x_test), SERVED)
        columns = list(state.decoder.columns)
        ids, truth, predicted = [], [], []
        try:
            with live_server(create_app(state)) as address, httpx.Client() as client:
                for pick in picks:
                    row = x_test.iloc[int(pick)]
                    answer = client.post(
                        f"http://{address}/predict",
                        json={"columns": columns, "data": [[float(row[c]) for c in columns]]},
                    )
                    assert answer.status_code == 200, answer.text
                    ids.append(answer.headers["X-Request-Id"])
                    truth.append(int(y_test.iloc[int(pick)]))
                    predicted.append(int(answer.json()["predictions"][0]))
        finally:
            state.close()  # hands every queued row to the store
    finally:
        workspace.close()
    assert len(set(ids)) == SERVED
    return Served(root, ids, truth, predicted, accuracy)


def _labels_file(served: Served, path: Path, flipped_share: float) -> Path:
    labels = list(served.truth)
    flip = np.random.default_rng(11).choice(SERVED, int(SERVED * flipped_share), replace=False)
    for index in flip:
        labels[index] = 1 - labels[index]
    pd.DataFrame({"rid": served.request_ids, "y": labels}).to_csv(path, index=False)
    return path


def test_true_labels_pass_and_30_percent_flipped_fail_naming_the_metric(
    served: Served, tmp_path: Path
) -> None:
    true_labels = _labels_file(served, tmp_path / "true.csv", 0.0)
    args = ("--request-id-column", "rid", "--label-column", "y")
    kept = run_parity("monitor", "feedback", "bc/1", str(true_labels), *args, cwd=served.root)
    assert kept.returncode == 0, kept.stderr
    assert f"kept {SERVED} of {SERVED} labels" in kept.stdout
    good = run_parity("monitor", "performance", "bc/1", "--json", cwd=served.root)
    assert good.returncode == 0, good.stdout + good.stderr
    report = json.loads(good.stdout)
    assert report["status"] == "ok"
    assert report["labels"] == SERVED
    [check] = report["windows"][0]["metrics"]  # the run logged accuracy only (train_ unused)
    assert check["name"] == "accuracy"
    assert check["trained_key"] == "val_accuracy"
    assert check["trained"] == pytest.approx(served.trained_accuracy)
    served_accuracy = np.mean(np.array(served.truth) == np.array(served.predicted))
    assert check["served"] == pytest.approx(served_accuracy)

    flipped = _labels_file(served, tmp_path / "flipped.csv", 0.3)
    run_parity("monitor", "feedback", "bc/1", str(flipped), *args, cwd=served.root)
    bad = run_parity("monitor", "performance", "bc/1", cwd=served.root)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "performance degraded: accuracy in the window from" in bad.stderr
    assert "DEGRADED" in bad.stdout
    assert "parity models rollback NAME@ALIAS" in bad.stderr
    assert "window from (UTC)" in bad.stdout
    # Windows of 250 labels: each is degraded, and each is named.
    per_window = run_parity(
        "monitor", "performance", "bc/1", "--window", "250", "--json", cwd=served.root
    )
    assert per_window.returncode == 1
    windows = json.loads(per_window.stdout)["windows"]
    assert [(w["labels"], w["degraded"]) for w in windows] == [(250, ["accuracy"])] * 4
    # Too few labels a window: not evaluated, and not a failure (as drift with too few rows).
    sparse = run_parity(
        "monitor", "performance", "bc/1", "--window", "50", "--min-labels", "100", cwd=served.root
    )
    assert sparse.returncode == 0, sparse.stderr
    assert "not evaluated" in sparse.stdout
    assert "parity serve --log-sample 1.0" in sparse.stdout
    # Every check is kept with the version, and `models show` names the last.
    history = monitor.performance_history("bc/1", workspace=open_workspace(served.root, environ={}))
    assert [c["status"] for c in history] == ["ok", "degraded", "degraded", "not evaluated"]
    shown = run_parity("models", "show", "bc/1", cwd=served.root)
    assert "performance  not evaluated over 1000 labels" in shown.stdout


def test_unknown_request_ids_are_counted_and_named(served: Served, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    pd.DataFrame(
        {"request_id": [served.request_ids[0], "never-served-1", "never-served-2"], "label": 1}
    ).to_csv(path, index=False)
    answer = run_parity("monitor", "feedback", "bc/1", str(path), "--json", cwd=served.root)
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout) == {
        "received": 3,
        "stored": 1,
        "unknown": 2,
        "unknown_ids": ["never-served-1", "never-served-2"],
        "ambiguous": 0,
        "ambiguous_ids": [],
    }
    assert "2 labels name a request the prediction log does not hold" in answer.stderr
    assert "parity serve --log-sample 1.0 logs every request" in answer.stderr


def test_a_labels_file_without_the_columns_is_refused(served: Served, tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    pd.DataFrame({"id": ["a"], "label": [1]}).to_csv(path, index=False)
    answer = run_parity("monitor", "feedback", "bc/1", str(path), cwd=served.root)
    assert answer.returncode == 2
    assert "labels.csv has no column 'request_id' (its columns: id, label)" in answer.stderr
    assert "--request-id-column" in answer.stderr


def _pairs(predicted: list[Any], labels: list[Any], start_ms: int = 0) -> list[LabelledPrediction]:
    return [
        LabelledPrediction(i, start_ms + i * 1000, 1, f"r{i}", 0, p, y)
        for i, (p, y) in enumerate(zip(predicted, labels, strict=True))
    ]


def test_the_run_s_metric_names_are_matched_by_the_documented_rule() -> None:
    found = trained_figures(
        {
            "train_accuracy": 1.0,
            "accuracy": 0.9,
            "test_accuracy": 0.8,
            "val-accuracy": 0.85,
            "F1_score": 0.7,
            "val/auc": 0.95,
            "loss": 0.3,
        }
    )
    assert {m: f.key for m, f in found.items()} == {
        "accuracy": "test_accuracy",
        "f1": "F1_score",
        "roc_auc": "val/auc",
    }
    assert trained_figures({"train_accuracy": 1.0}) == {}


def test_regression_compares_rmse_upward_and_r2_downward() -> None:
    truth = [float(i) for i in range(200)]
    close = [v + 1.0 for v in truth]
    far = [v + 10.0 for v in truth]
    logged = {"val_rmse": 1.0, "val_r2": 0.99}
    assert check_performance("m/1", "run", logged, _pairs(close, truth)).ok
    report = check_performance("m/1", "run", logged, _pairs(far, truth))
    assert report.task == "regression"
    assert report.windows[0].degraded == ("rmse",)


def test_scores_give_roc_auc_and_classes_do_not() -> None:
    labels = [i % 2 for i in range(200)]
    scores = [0.8 if y else 0.3 for y in labels]
    report = check_performance(
        "m/1", "r", {"roc_auc": 0.99, "accuracy": 0.99}, _pairs(scores, labels)
    )
    assert report.ok
    classes = check_performance("m/1", "r", {"roc_auc": 0.99}, _pairs(labels, labels))
    [auc] = classes.windows[0].metrics
    assert auc.served is None
    assert auc.note == "the logged predictions are classes, not scores"


def test_labels_that_cannot_be_scored_leave_the_window_not_evaluated_saying_why() -> None:
    # A non-finite regression label (an old store, a CSV) is a reason, not a scikit-learn crash.
    truth: list[Any] = [1.0] * 100 + [float("inf")]
    report = check_performance("m/1", None, {"val_rmse": 0.1}, _pairs([1.0] * 101, truth))
    assert report.status == "not evaluated"
    assert "not a finite number" in str(report.reason)
    # Text labels against whole-number classes: no verdict, never "degraded" nor a crash.
    words = check_performance("m/1", None, {"accuracy": 0.9}, _pairs([1] * 100, ["yes"] * 100))
    assert words.status == "not evaluated"
    assert "the labels are text but the predictions are whole numbers" in str(words.reason)
    # "1.0" from a CSV is the class 1.
    text = check_performance("m/1", None, {"accuracy": 0.9}, _pairs([1] * 100, ["1.0"] * 100))
    assert text.status == "ok"
    assert text.windows[0].metrics[0].served == 1.0


def test_a_run_whose_metrics_cannot_be_computed_here_is_not_reported_ok() -> None:
    # The run logged only AUC; the served predictions are classes (and all wrong).
    report = check_performance("m/1", None, {"val_auc": 0.95}, _pairs([0] * 200, [1] * 200))
    assert report.status == "not evaluated"
    assert report.reason is not None
    assert "roc_auc: the logged predictions are classes, not scores" in report.reason


def test_windows_by_time_and_bad_options_are_refused() -> None:
    pairs = _pairs([1] * 10, [1] * 10)  # one a second
    assert [len(w) for w in split_windows(pairs, "3s")] == [3, 3, 3, 1]
    assert [len(w) for w in split_windows(pairs, "4")] == [4, 4, 2]
    with pytest.raises(UsageError, match="cannot read --window"):
        split_windows(pairs, "1w")
    with pytest.raises(UsageError, match="logged no metric"):
        check_performance("m/1", "r", {"loss": 0.1}, pairs)


def test_labels_given_as_a_list_through_the_api(served: Served) -> None:
    with open_workspace(served.root, environ={}) as workspace:
        receipt = monitor.feedback(
            "bc/1",
            [{"request_id": served.request_ids[1], "label": served.truth[1]}],
            workspace=workspace,
        )
        assert (receipt.received, receipt.stored, receipt.unknown) == (1, 1, 0)
        with pytest.raises(UsageError, match="item 0: no label"):
            monitor.feedback("bc/1", [{"request_id": "abc"}], workspace=workspace)
        with pytest.raises(UsageError, match="no labels file at"):
            monitor.feedback("bc/1", served.root / "missing.csv", workspace=workspace)
