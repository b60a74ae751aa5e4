"""The plan's prediction, the noise of re-runs, the verdict and how its causes rank."""

from __future__ import annotations

from parity.core.env_rules import Difference, EnvDiff, Risk
from parity.core.run import Artifact, RunStatus, RunView
from parity.repro.noise import measure_noise
from parity.repro.outcome import Comparison, Outcome
from parity.repro.plan import Expectation, Facts, Reason, plan_repro
from parity.repro.verdict import Evidence, Verdict, decide, rank_causes


def _difference(rule: str, risk: Risk, subject: str = "x") -> Difference:
    return Difference(subject, rule, "1", "2", risk, "why")


def _view(accuracy: float, model: str = "m1") -> RunView:
    return RunView(
        id="r" * 32,
        experiment="e",
        name=None,
        status=RunStatus.FINISHED,
        start_ms=0,
        end_ms=1,
        user="u",
        host=None,
        command=("python", "t.py"),
        metrics={"accuracy": accuracy},
        artifacts=(Artifact("model", "model", model), Artifact("stdout.txt", "log", model)),
    )


def test_the_plan_takes_the_weakest_expectation_its_reasons_allow() -> None:
    same = EnvDiff("a", "a", ())
    assert plan_repro(Facts(same, seeds=["seed"])).expectation is Expectation.BITWISE
    assert plan_repro(Facts(same)).expectation is Expectation.CLOSE  # no seed logged
    threads = EnvDiff("a", "b", (_difference("native.threads", Risk.LOW),))
    assert plan_repro(Facts(threads, seeds=["s"])).expectation is Expectation.CLOSE
    python = EnvDiff("a", "b", (_difference("python.minor", Risk.HIGH, "python"),))
    planned = plan_repro(Facts(python, seeds=["s"], gpus=["A100"]))
    assert planned.expectation is Expectation.NOT_EXPECTED
    assert planned.reasons[0].text.startswith("python: 1 → 2")
    assert any("A100" in r.text for r in planned.reasons)
    assert plan_repro(Facts(None, seeds=["s"])).expectation is Expectation.NOT_EXPECTED
    blocked = plan_repro(Facts(same, blockers=[Reason("code", "gone", Expectation.NOT_EXPECTED)]))
    assert not blocked.runnable
    assert blocked.to_dict()["blockers"][0]["text"] == "gone"


def test_noise_is_the_spread_of_the_re_runs_widened_by_its_width() -> None:
    noise = measure_noise([_view(0.80, "m1"), _view(0.84, "m2"), _view(0.82, "m1")])
    band = noise.band("accuracy")
    assert band is not None
    assert (band.low, band.high) == (0.80, 0.84)
    assert band.holds(0.77) and not band.holds(0.70)  # noqa: PT018
    assert noise.varying == ("model",)  # the logs are never compared
    metric = Comparison("metric", "accuracy", Outcome.DIFFERENT, "", original=0.78)
    assert noise.explains(metric)
    assert noise.explains(Comparison("model", "model", Outcome.DIFFERENT, ""))
    steady = measure_noise([_view(0.8), _view(0.8)])
    assert not steady.measured
    assert not steady.explains(metric)


def test_the_verdict_from_what_was_compared() -> None:
    same = Comparison("metric", "a", Outcome.IDENTICAL, "")
    close = Comparison("metric", "b", Outcome.CLOSE, "")
    far = Comparison("metric", "accuracy", Outcome.DIFFERENT, "", original=0.81)
    assert decide([same], None) is Verdict.IDENTICAL
    assert decide([], None) is Verdict.IDENTICAL
    assert decide([same, close], None) is Verdict.WITHIN_TOLERANCE
    assert decide([same, far], None) is Verdict.DIFFERENT
    noisy = measure_noise([_view(0.80), _view(0.84)])
    assert decide([far], noisy) is Verdict.WITHIN_TOLERANCE
    assert Verdict.WITHIN_TOLERANCE.passes()
    assert not Verdict.WITHIN_TOLERANCE.passes(strict=True)
    assert not Verdict.COULD_NOT_RUN.passes()


def test_causes_rank_data_then_code_then_environment_by_risk_then_noise() -> None:
    environment = EnvDiff(
        "a",
        "b",
        (
            _difference("package.native.major_minor", Risk.HIGH, "package scikit-learn"),
            _difference("native.threads", Risk.LOW, "blas threads"),
            _difference("platform.kernel", Risk.INFO, "kernel"),
        ),
    )
    far = Comparison("metric", "accuracy", Outcome.DIFFERENT, "", original=0.81)
    evidence = Evidence(["data/t.csv: aaa → bbb"], ["diff missing"], environment, None, False)
    causes = rank_causes(evidence, [far])
    assert [c.area for c in causes] == ["data", "environment", "code", "run", "environment"]
    assert causes[1].text.startswith("package scikit-learn: 1 → 2 (high risk")
    only_env = rank_causes(Evidence([], [], environment, None, True), [far])
    assert only_env[0].text.startswith("package scikit-learn")
    noisy = measure_noise([_view(0.80), _view(0.84)])
    explained = rank_causes(Evidence([], [], None, noisy, False), [far])
    assert explained[0].area == "noise"
    assert "accuracy varies by 0.04" in explained[0].text
    assert "1 of 1 differences lie within it" in explained[0].text
