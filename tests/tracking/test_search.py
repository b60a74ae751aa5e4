"""Search: the filter language compiled to SQL, on SQLite and PostgreSQL, and sent as text to a
Parity server (paged by its cursor), checked by result."""

from __future__ import annotations

from typing import Any

import pytest

from parity.core.errors import UsageError
from parity.core.run import Metric, RunStatus
from parity.core.run_filter import parse_filter, parse_sort
from parity.tracking.repository import RunRepository

# name: (experiment, params, metrics, tags, status)
PROD = {"stage": "prod"}
OK = "finished"
RUNS = {
    "rf-small": ("churn", {"model": "rf", "depth": "3"}, {"acc": 0.81, "f1": 0.7}, {}, "finished"),
    "rf-deep": ("churn", {"model": "rf", "depth": "12"}, {"acc": 0.93, "f1": 0.8}, PROD, OK),
    "gbm": ("churn", {"model": "gbm", "depth": "6"}, {"acc": 0.95}, {"stage": "dev"}, "failed"),
    "logreg": ("churn", {"model": "LogReg", "C": "0.5"}, {"acc": 0.78, "f1": 0.9}, {}, "killed"),
    "other": ("fraud", {"model": "rf", "depth": "3"}, {"acc": 0.99}, PROD, "finished"),
}  # fmt: skip


@pytest.fixture
def searched(runs: Any) -> RunRepository:
    store = runs
    for name, (experiment, params, metrics, tags, status) in RUNS.items():
        run_id = store.create(
            experiment=experiment, name=name, user="alice", host=None, command=["x"]
        )
        store.log_params(run_id, params)
        store.set_tags(run_id, tags)
        store.log_metrics(run_id, [Metric.of(k, v, 0, 1) for k, v in metrics.items()])
        store.end(run_id, RunStatus(status))
    return store


def names(
    runs: RunRepository,
    text: str = "",
    sort: tuple[str, ...] = (),
    experiment: str | None = None,
    limit: int | None = None,
) -> list[str | None]:
    found = runs.search(
        experiment=experiment,
        expression=parse_filter(text),
        sort=[parse_sort(s) for s in sort],
        limit=limit,
    )
    return [run.name for run in found]


def test_and_or_not(searched: RunRepository) -> None:
    assert names(searched, "metrics.acc > 0.9 and params.model = 'rf'", ("name",)) == [
        "other",
        "rf-deep",
    ]
    assert names(searched, "params.model = 'gbm' or tags.stage = 'prod'", ("name",)) == [
        "gbm",
        "other",
        "rf-deep",
    ]
    assert names(searched, "not params.model = 'rf'", ("name",)) == ["gbm", "logreg"]
    assert names(
        searched, "not (metrics.acc < 0.9 or tags.stage = 'dev') and params.model = 'rf'", ("name",)
    ) == ["other", "rf-deep"]


def test_comparisons_like_and_numeric_params(searched: RunRepository) -> None:
    assert names(searched, "params.depth > 5", ("name",)) == ["gbm", "rf-deep"]  # 12 > 5 as numbers
    assert names(searched, "params.depth = 3", ("name",)) == ["other", "rf-small"]
    assert names(searched, "params.model LIKE 'log%'") == ["logreg"]  # case-insensitive everywhere
    assert names(searched, "params.model != 'rf'", ("name",)) == ["gbm", "logreg"]
    assert names(searched, "metrics.f1 >= 0.8", ("name",)) == ["logreg", "rf-deep"]
    assert names(searched, "metrics.missing > 0") == []


def test_attributes(searched: RunRepository) -> None:
    assert names(searched, "attributes.status = 'FAILED'") == ["gbm"]
    assert names(searched, "attributes.status != 'finished'", ("name",)) == ["gbm", "logreg"]
    assert names(searched, "attributes.experiment = 'fraud'") == ["other"]
    assert names(searched, "attributes.name LIKE 'rf-%'", ("name",)) == ["rf-deep", "rf-small"]
    everything = searched.search()
    first_start = min(r.start_ms for r in everything)
    assert len(names(searched, f"attributes.start_time > {first_start}")) == 4
    with pytest.raises(UsageError, match="unknown run status"):
        names(searched, "attributes.status = 'done'")
    with pytest.raises(UsageError, match="is a number"):
        names(searched, "attributes.start_time > 'yesterday'")


def test_sort_and_limit(searched: RunRepository) -> None:
    assert names(searched, sort=("-metrics.acc",)) == [
        "other",
        "gbm",
        "rf-deep",
        "rf-small",
        "logreg",
    ]
    assert names(searched, sort=("metrics.f1",), experiment="churn") == [
        "rf-small",
        "rf-deep",
        "logreg",
        "gbm",  # no f1: missing values last, ascending or descending
    ]
    assert names(searched, sort=("-metrics.f1",), experiment="churn")[-1] == "gbm"
    assert names(searched, sort=("-params.depth",), experiment="churn") == [
        "rf-deep",
        "gbm",
        "rf-small",
        "logreg",
    ]
    assert names(searched, sort=("tags.stage", "-metrics.acc"), limit=3) == [
        "gbm",
        "other",
        "rf-deep",
    ]
    assert names(searched) == ["other", "logreg", "gbm", "rf-deep", "rf-small"]  # newest first
    with pytest.raises(UsageError, match="at least 1"):
        names(searched, limit=0)
