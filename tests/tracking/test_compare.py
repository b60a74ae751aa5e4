"""Runs side by side: what differs in params, metrics, data and environment."""

from __future__ import annotations

from dataclasses import replace

import pytest

from parity.api import runs
from parity.core.errors import UsageError
from parity.core.run import DataLink, Metric
from parity.env.capture import capture
from parity.env.records import store_environment
from parity.tracking.store import RunStore
from parity.workspace import Workspace


def test_compare_names_every_difference(workspace: Workspace, store: RunStore) -> None:
    current = capture()
    sklearn = current.distribution("scikit-learn")
    assert sklearn is not None
    older = replace(
        current,
        distributions=tuple(
            replace(d, version="1.0.0") if d.name == "scikit-learn" else d
            for d in current.distributions
        ),
    )
    environments = [store_environment(workspace.records, env, 1) for env in (current, older)]
    ids = []
    for index, (lr, acc, version, environment_id) in enumerate(
        [("0.1", 0.9, "a" * 64, environments[0]), ("0.2", 0.9, "b" * 64, environments[1])]
    ):
        run_id = store.create(experiment="x", name=f"r{index}", user="u", host=None, command=[])
        store.log_params(run_id, {"lr": lr, "seed": 7})
        store.log_metrics(run_id, [Metric("acc", acc, 0, 0)])
        store.add_data(run_id, "input", [DataLink("data/train.csv", version)])
        store.set_sources(run_id, None, environment_id)
        ids.append(run_id)

    result = runs.compare(ids, workspace=workspace)
    assert [(row.key, row.values, row.differs) for row in result.params] == [
        ("lr", ("0.1", "0.2"), True),
        ("seed", ("7", "7"), False),
    ]
    assert [(row.key, row.differs) for row in result.metrics] == [("acc", False)]
    assert [(row.key, row.values) for row in result.inputs] == [
        ("data/train.csv", ("a" * 64, "b" * 64))
    ]
    [environment] = result.environments
    assert environment.diff is not None
    subjects = [d.subject for d in environment.diff.differences]
    assert "package scikit-learn" in subjects
    assert result.to_dict()["environments"][0]["identical"] is False
    with pytest.raises(UsageError, match="at least two runs"):
        runs.compare(ids[:1], workspace=workspace)
