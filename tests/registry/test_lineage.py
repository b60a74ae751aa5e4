"""The lineage graph builder and its renderings, from plain facts."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from parity.core.model import ArtifactFile, ModelRecord, ModelVersion
from parity.registry.lineage import (
    CodeFacts,
    DataInput,
    Lineage,
    RunFacts,
    build_lineage,
)
from tests.conftest import IN_CI

MODEL_ID = "m" * 64
ENV_TRAIN = "e" * 64
ENV_PREP = "f" * 64
DATA_RAW = "d" * 64
DATA_TRAIN = "c" * 64

VERSION = ModelVersion(
    name="bc",
    version=3,
    model_id=MODEL_ID,
    run_id="run-child",
    created_ms=1,
    created_by="alice",
    locked=True,
    aliases=("production",),
)
RECORD = ModelRecord(
    flavor="sklearn",
    loader={"format": "skops", "file": "model.skops"},
    files=(ArtifactFile("model.skops", "a" * 64, 10),),
    environment_id=ENV_TRAIN,
    requirements={"scikit-learn": "1.9.1"},
)
CHILD = RunFacts(
    id="run-child",
    status="finished",
    name="train",
    params={"C": 1.0},
    metrics={"accuracy": 0.97},
    # A branch name with quotes and a backslash: DOT output must escape them.
    code=CodeFacts(commit="1" * 40, branch='feat/"odd"\\name', dirty=True, diff_blob="b" * 64),
    environment_id=ENV_TRAIN,
    inputs=(DataInput("data/train.csv", DATA_TRAIN), DataInput("notes.txt", None)),
    parent_id="run-parent",
)
PARENT = RunFacts(
    id="run-parent",
    status="finished",
    name="prepare",
    code=CodeFacts(commit="2" * 40, branch="main", dirty=False),
    environment_id=ENV_PREP,
    inputs=(DataInput("data/raw.csv", DATA_RAW),),
)


def _lineage(runs: dict[str, RunFacts]) -> Lineage:
    return build_lineage(VERSION, RECORD, MODEL_ID, runs.get)


def test_graph_follows_the_run_its_code_data_environment_and_parents() -> None:
    lineage = _lineage({CHILD.id: CHILD, PARENT.id: PARENT})
    summary = lineage.summary()
    assert summary["model_version"] == "bc/3"
    assert summary["model_id"] == MODEL_ID
    assert summary["run_ids"] == ["run-child", "run-parent"]
    assert summary["commits"] == ["1" * 40, "2" * 40]
    assert set(summary["environment_ids"]) == {ENV_TRAIN, ENV_PREP}
    assert set(summary["data_version_ids"]) == {DATA_TRAIN, DATA_RAW}
    edges = {(e.source, e.relation, e.target) for e in lineage.edges}
    assert ("model_version:bc/3", "points to", f"model:{MODEL_ID}") in edges
    assert (f"model:{MODEL_ID}", "made by", "run:run-child") in edges
    assert ("run:run-child", "child of", "run:run-parent") in edges
    assert ("run:run-child", "input", f"data:{DATA_TRAIN}") in edges
    assert ("run:run-parent", "input", f"data:{DATA_RAW}") in edges
    # The model and its run share one environment node.
    assert len(lineage.of_kind("environment")) == 2
    assert lineage.missing_runs == ()
    run = lineage.node("run:run-child")
    assert run.attributes["params"] == {"C": 1.0}
    assert run.attributes["metrics"] == {"accuracy": 0.97}


def test_json_is_plain_and_names_what_is_missing() -> None:
    lineage = _lineage({CHILD.id: CHILD})  # the parent run is not in this store
    document = json.loads(json.dumps(lineage.to_dict()))
    assert document["format"] == 1
    assert document["missing_runs"] == ["run-parent"]
    assert document["summary"]["run_ids"] == ["run-child"]


def test_a_cycle_of_parents_ends() -> None:
    looped = RunFacts(id="run-parent", status="finished", parent_id="run-child")
    lineage = _lineage({CHILD.id: CHILD, looped.id: looped})
    assert [n.id for n in lineage.of_kind("run")] == ["run:run-child", "run:run-parent"]


def test_a_version_without_a_run_is_the_model_and_its_environment() -> None:
    version = ModelVersion("bc", 1, MODEL_ID, None, 1, "alice", False)
    lineage = build_lineage(version, RECORD, MODEL_ID, lambda _: None)
    assert {n.kind for n in lineage.nodes} == {"model_version", "model", "environment"}


def test_tree_shows_a_shared_node_once() -> None:
    lineage = _lineage({CHILD.id: CHILD, PARENT.id: PARENT})
    lines = lineage.tree(lambda n: f"{n.kind} {n.label}")
    assert lines[0] == "model_version bc/3"
    assert sum("environment eeeeeeeeeeee" in line for line in lines) == 2
    assert sum("(see above)" in line for line in lines) == 1


def test_dot_parses_with_graphviz() -> None:
    dot = shutil.which("dot")
    if dot is None:
        if IN_CI:
            pytest.fail("CI must have Graphviz: .ci/run installs it")
        pytest.skip("Graphviz 'dot' is not installed (apt-get install graphviz)")
    source = _lineage({CHILD.id: CHILD, PARENT.id: PARENT}).to_dot()
    result = subprocess.run(
        [dot, "-Tsvg"], input=source, capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "<svg" in result.stdout
    assert "run: prepare" in result.stdout
    assert "branch: feat/&quot;odd&quot;\\name" in result.stdout


def test_a_logged_model_without_a_version_is_its_own_root() -> None:
    lineage = build_lineage(None, RECORD, MODEL_ID, {CHILD.id: CHILD}.get, run_id=CHILD.id)
    assert lineage.root == f"model:{MODEL_ID}"
    assert lineage.nodes[0].id == lineage.root
    assert lineage.summary()["model_version"] is None
    assert lineage.summary()["run_ids"] == ["run-child"]


def test_environment_facts_label_the_environment_nodes() -> None:
    facts = {ENV_TRAIN: {"description": "cpython 3.11.7 · 131 packages · x86_64"}}
    lineage = build_lineage(
        VERSION, RECORD, MODEL_ID, {CHILD.id: CHILD}.get, environments=facts.get
    )
    node = lineage.node(f"environment:{ENV_TRAIN}")
    assert node.attributes == {"id": ENV_TRAIN, **facts[ENV_TRAIN]}
    assert "description: cpython 3.11.7" in lineage.to_dot()
