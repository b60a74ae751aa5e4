"""``parity.api.repro`` end to end on real training scripts, re-run in this test's venv."""

from __future__ import annotations

from pathlib import Path

import pytest

from parity.api import data, models, repro, runs
from parity.core.errors import UsageError
from parity.repro.verdict import Verdict
from parity.workspace import Workspace
from tests.repro.conftest import TABLE, THIS_VENV, train, write_table
from tests.tracking.conftest import git


def test_a_seeded_training_run_reproduces_identically_and_is_recorded(
    project: Path, workspace: Workspace
) -> None:
    original = train(project)
    report = repro.run(original[:12], venv=THIS_VENV, workspace=workspace)
    assert report.verdict is Verdict.IDENTICAL, report.to_dict()
    assert report.ok
    assert report.causes == ()
    compared = {(c.kind, c.subject): c.outcome.value for c in report.comparisons}
    assert compared == {
        ("metric", "accuracy"): "identical",
        ("model", "model"): "identical",
    }
    # Recorded as a run of its own that reproduces the original, with its report.
    assert report.run_id is not None
    view = runs.get(report.run_id, workspace=workspace)
    assert view.reproduces == original
    assert view.status.value == "finished"
    assert [a.path for a in view.artifacts if a.kind == "report"] == ["repro.json"]
    assert view.inputs == runs.get(original, workspace=workspace).inputs
    (reproduction,) = repro.history(original, workspace=workspace)
    assert (reproduction.run_id, reproduction.verdict) == (report.run_id, "identical")
    assert repro.report(reproduction, workspace=workspace)["verdict"] == "identical"
    # The user's work tree was never touched and no worktree is left behind.
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "worktree", "list").count("\n") == 1
    assert report.overhead_seconds < 2.0, report.seconds


def test_a_corrupt_input_object_could_not_run_naming_it(
    project: Path, workspace: Workspace
) -> None:
    original = train(project)
    link = runs.get(original, workspace=workspace).inputs[0]
    manifest = workspace.objects.get_bytes(link.data_version)
    import json

    pack = json.loads(manifest)["body"]["packs"][0]
    stored = next((project / ".parity" / "objects" / pack[:2]).glob(pack[2:] + "*"))
    content = bytearray(stored.read_bytes())
    content[len(content) // 2] ^= 0x01  # one byte of the store's copy
    stored.chmod(0o644)
    stored.write_bytes(bytes(content))
    report = repro.run(original, venv=THIS_VENV, workspace=workspace)
    assert report.verdict is Verdict.COULD_NOT_RUN
    assert not report.ok
    assert report.causes[0].area == "data"
    assert f"input {TABLE}" in report.causes[0].text
    assert "is corrupt" in report.causes[0].text
    assert report.failure == report.causes[0].text
    (reproduction,) = repro.history(original, workspace=workspace)
    assert reproduction.verdict == "could not run"


def test_another_data_version_is_different_with_the_data_named_first(
    project: Path, workspace: Workspace
) -> None:
    original = train(project)
    write_table(project / TABLE, seed=1)  # the next version of the training table
    other = data.add(project / TABLE, workspace=workspace).data_version
    report = repro.run(original, venv=THIS_VENV, data={TABLE: other}, workspace=workspace)
    assert report.verdict is Verdict.DIFFERENT, report.to_dict()
    assert report.causes[0].area == "data"
    assert report.causes[0].text.startswith(f"input {TABLE}: ")
    assert other[:12] in report.causes[0].text
    assert any(c.subject == "model" and c.outcome.value != "identical" for c in report.comparisons)


def test_an_unseeded_forest_measures_its_noise_over_three_runs(
    project: Path, workspace: Workspace
) -> None:
    original = train(project, "forest.py")
    plan = repro.plan(original, venv=THIS_VENV, workspace=workspace)
    assert any("no seed was logged" in r.text for r in plan.reasons)
    report = repro.run(original, venv=THIS_VENV, runs=3, workspace=workspace)
    assert len(report.run_ids) == 3
    assert report.noise is not None
    band = report.noise.band("accuracy")
    assert band is not None
    assert band.width > 0  # the re-runs disagree among themselves
    # The verdict uses the band: a difference inside it is the run's noise, not a change.
    (accuracy,) = [c for c in report.comparisons if c.subject == "accuracy"]
    if accuracy.outcome.value == "identical":
        assert report.verdict is Verdict.IDENTICAL
    elif band.holds(float(accuracy.original)):
        assert report.verdict is Verdict.WITHIN_TOLERANCE
        assert report.causes[0].area == "noise"
    else:
        assert report.verdict is Verdict.DIFFERENT
    assert any(c.area == "noise" and "3 re-runs" in c.text for c in report.causes) or (
        report.verdict is Verdict.IDENTICAL
    )
    children = [runs.get(r, workspace=workspace).parent_id for r in report.run_ids[1:]]
    assert children == [report.run_ids[0]] * 2


def test_a_model_reference_reproduces_the_run_that_made_it(
    project: Path, workspace: Workspace
) -> None:
    original = train(project)
    models.register(original, "clf", workspace=workspace)
    models.alias("clf", 1, "candidate", workspace=workspace)
    plan = repro.plan("clf@candidate", venv=THIS_VENV, workspace=workspace)
    assert plan.runnable
    report = repro.run("clf@candidate", venv=THIS_VENV, strict=True, workspace=workspace)
    assert report.original_id == original
    assert report.verdict is Verdict.IDENTICAL
    lineage = models.lineage("clf@candidate", workspace=workspace)
    reproductions = lineage.of_kind("reproduction")
    assert [n.attributes["verdict"] for n in reproductions] == ["identical"]


def test_what_stops_a_repro_is_known_before_it_runs(project: Path, workspace: Workspace) -> None:
    original = train(project)
    git(project, "checkout", "-q", "--orphan", "elsewhere")
    git(project, "rm", "-rq", "--cached", ".")
    git(project, "commit", "-q", "--allow-empty", "-m", "new history")
    git(project, "branch", "-D", "main")
    git(project, "reflog", "expire", "--expire=now", "--all")
    git(project, "gc", "-q", "--prune=now")
    plan = repro.plan(original, venv=THIS_VENV, workspace=workspace)
    assert not plan.runnable
    assert "is not in this repository" in plan.blockers[0].text
    report = repro.run(original, venv=THIS_VENV, workspace=workspace)
    assert report.verdict is Verdict.COULD_NOT_RUN
    assert report.causes[0].area == "code"


def test_tolerances_are_metric_equals_relative_number() -> None:
    assert repro.parse_tolerances(["accuracy=0.01", "*=1e-6"]) == {"accuracy": 0.01, "*": 1e-6}
    for bad in ("accuracy", "accuracy=x", "=0.1", "accuracy=-1"):
        with pytest.raises(UsageError, match="is not METRIC=REL"):
            repro.parse_tolerances([bad])
    with pytest.raises(UsageError, match="at least 1"):
        repro.run("abcd1234", runs=0)


PREPARE = """
import json, random, sys
from pathlib import Path
rows = Path("data/train.csv").read_text().splitlines()
out = Path("out")
out.mkdir(exist_ok=True)
(out / "summary.csv").write_text("rows\\n" + str(len(rows) - 1) + "\\n")
noise = random.random() if "--noisy" in sys.argv else 0.5
(out / "stats.json").write_text(json.dumps({"rows": len(rows) - 1, "score": noise}))
"""


def test_a_wrapped_command_is_re_run_and_its_data_outputs_compared_file_by_file(
    project: Path, workspace: Workspace
) -> None:
    import sys

    (project / "prepare.py").write_text(PREPARE)
    git(project, "add", "prepare.py")
    git(project, "commit", "-q", "-m", "prepare")
    steady = runs.track(
        [sys.executable, "prepare.py"],
        inputs=[project / TABLE],
        outputs=[project / "out"],
        workspace=workspace,
    )
    report = repro.run(steady.run_id, venv=THIS_VENV, workspace=workspace)
    assert report.verdict is Verdict.IDENTICAL, report.to_dict()
    assert [(c.kind, c.subject) for c in report.comparisons] == [("output", "out")]
    noisy = runs.track(
        [sys.executable, "prepare.py", "--noisy"],
        inputs=[project / TABLE],
        outputs=[project / "out"],
        workspace=workspace,
    )
    report = repro.run(noisy.run_id, venv=THIS_VENV, workspace=workspace)
    assert report.verdict is Verdict.DIFFERENT
    (output,) = report.comparisons
    assert output.detail.startswith("1 of 2 files differ; out/stats.json: JSON numbers differ")
    assert report.causes[0].area == "run"  # no seed logged: the run's own randomness


def test_infrastructure_files_in_lineage_do_not_make_a_repro_different(
    project: Path, workspace: Workspace
) -> None:
    """Infra files are where a model runs, checked out with the run's code: not an output."""
    (project / "deploy").mkdir()
    (project / "deploy" / "service.yaml").write_text("kind: Service\n")
    config = project / ".parity" / "config.toml"
    config.write_text(config.read_text() + '\n[lineage]\ninfra = ["deploy/*.yaml"]\n')
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "infra")
    original = train(project)
    assert any(a.kind == "infra" for a in workspace.runs.get(original).artifacts)
    report = repro.run(original, venv=THIS_VENV, workspace=workspace)
    assert report.verdict is Verdict.IDENTICAL, report.to_dict()
