"""The gate's pure judgements: metric bounds and baselines, repro verdicts, lineage gaps."""

from __future__ import annotations

import pytest

from parity.core.model import ModelRecord
from parity.gate.judge import judge_lineage, judge_metric, judge_repro
from parity.gate.verdict import Severity, Status
from parity.registry.lineage import CodeFacts, RunFacts, build_lineage


def test_metric_bounds_and_a_baseline() -> None:
    passed = judge_metric("acc", "c", "accuracy", 0.93, {"min": 0.9, "max": 1})
    assert passed.status is Status.PASSED
    assert passed.summary == "c: accuracy = 0.93"
    low = judge_metric("acc", "c", "accuracy", 0.85, {"min": 0.9})
    assert low.status is Status.FAILED
    assert low.findings[0].message == "accuracy = 0.85 is below the minimum 0.9"
    worse = judge_metric(
        "acc", "c", "accuracy", 0.90, {"max_drop": 0.01, "max_drop_rel": 0.005}, ("p", 0.93)
    )
    assert [f.message for f in worse.findings] == [
        "accuracy fell by 0.03 from p (at most 0.01)",
        "accuracy fell by 3.23% from p (at most 0.50%)",
    ]
    loss = judge_metric("loss", "c", "loss", 0.5, {"max_rise": 0.1}, ("p", 0.3))
    assert loss.findings[0].message == "loss rose by 0.2 from p (at most 0.1)"
    assert judge_metric("a", "c", "accuracy", None, {}).status is Status.ERROR
    assert judge_metric("a", "c", "accuracy", 0.9, {}, ("p", None)).status is Status.ERROR
    with pytest.raises(TypeError, match="min must be a number"):
        judge_metric("a", "c", "accuracy", 0.9, {"min": "high"})


def test_the_last_repro_verdict_against_the_one_required() -> None:
    assert judge_repro("r", "m", "identical", "identical").status is Status.PASSED
    assert judge_repro("r", "m", "within tolerance", "within tolerance").status is Status.PASSED
    strict = judge_repro("r", "m", "within tolerance", "identical")
    assert strict.status is Status.FAILED
    never = judge_repro("r", "m@c", None, "within tolerance")
    assert never.findings[0].message == "m@c was never reproduced: run 'parity repro m@c'"
    with pytest.raises(ValueError, match="require must be"):
        judge_repro("r", "m", "identical", "different")


def _lineage(dirty: bool, environment: str | None) -> object:
    record = ModelRecord("sklearn", {}, (), environment_id=environment)
    run = RunFacts(
        "r" * 32,
        "finished",
        code=CodeFacts("c" * 40, "main", dirty),
        environment_id=environment,
        parent_id="p" * 32,
    )
    runs = {run.id: run}
    return build_lineage(None, record, "m" * 64, runs.get, run_id=run.id)


def test_lineage_is_complete_only_with_every_link_and_clean_code() -> None:
    gaps = judge_lineage("l", "m", _lineage(dirty=True, environment=None), allow_dirty=False)  # type: ignore[arg-type]
    messages = {(f.message.split(" ", 2)[-1], f.severity) for f in gaps.findings}
    assert gaps.status is Status.FAILED
    assert ("is not in this workspace", Severity.HIGH) in messages  # the parent run
    assert ("recorded no environment", Severity.HIGH) in messages
    assert any(s is Severity.MEDIUM for _, s in messages)  # uncommitted changes
    allowed = judge_lineage("l", "m", _lineage(dirty=True, environment="e" * 64), allow_dirty=True)  # type: ignore[arg-type]
    assert [f.message for f in allowed.findings] == [f"run {'p' * 16} is not in this workspace"]
