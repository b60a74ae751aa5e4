"""Comparing two model versions from their facts."""

from __future__ import annotations

from parity.core.env_rules import Difference, EnvDiff, Risk
from parity.core.model import ModelRecord, ModelVersion
from parity.registry.comparison import ModelSide, compare_models
from parity.registry.lineage import DataInput, RunFacts


def _side(version: int, run: RunFacts | None, environment_id: str) -> ModelSide:
    model_id = str(version) * 64
    return ModelSide(
        ModelVersion("bc", version, model_id, run.id if run else None, 1, "alice", False),
        ModelRecord(flavor="sklearn", loader={}, files=(), environment_id=environment_id),
        model_id,
        f"bc/{version}",
        run,
    )


def test_differences_in_params_metrics_data_and_environment() -> None:
    first = RunFacts(
        id="r1",
        status="finished",
        params={"C": 1.0, "penalty": "l2"},
        metrics={"accuracy": 0.95},
        inputs=(DataInput("data/train.csv", "a" * 64),),
    )
    second = RunFacts(
        id="r2",
        status="finished",
        params={"C": 0.5, "penalty": "l2", "max_iter": 500},
        metrics={"accuracy": 0.97},
        inputs=(DataInput("data/train.csv", "b" * 64),),
    )
    environment = EnvDiff(
        "e" * 64,
        "f" * 64,
        (Difference("package scikit-learn", "minor", "1.8.0", "1.9.1", Risk.HIGH, "why"),),
    )
    result = compare_models(_side(1, first, "e" * 64), _side(2, second, "f" * 64), environment)
    assert not result.identical
    params = {c.key: (c.a, c.b, c.differs) for c in result.params}
    assert params == {
        "C": (1.0, 0.5, True),
        "max_iter": (None, 500, True),
        "penalty": ("l2", "l2", False),
    }
    assert [(c.key, c.a, c.b) for c in result.metrics] == [("accuracy", 0.95, 0.97)]
    assert [(c.key, c.a, c.b) for c in result.data] == [("data/train.csv", "a" * 64, "b" * 64)]
    model = {c.key: c.differs for c in result.model}
    assert model == {"environment id": True, "flavor": False, "model id": True, "run id": True}
    document = result.to_dict()
    assert document["environment"]["differences"][0]["subject"] == "package scikit-learn"
    assert (document["a"], document["b"]) == ("bc/1", "bc/2")


def test_versions_without_runs_compare_by_their_records() -> None:
    same = EnvDiff("e" * 64, "e" * 64, ())
    result = compare_models(_side(1, None, "e" * 64), _side(1, None, "e" * 64), same)
    assert result.identical
    assert result.params == result.metrics == result.data == ()
