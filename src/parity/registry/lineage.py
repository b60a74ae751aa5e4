"""Lineage: what made a model version, as a graph of nodes and edges.

model version -> model record (flavor, environment, files) -> run (params, metrics) -> code state,
input data versions, environment -> parent runs, and so on up. The builder is pure: it is handed
the facts (the API layer reads them from the registry and the tracking store) and returns a result
object that prints as JSON, a tree or Graphviz DOT.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from parity.core.model import ModelRecord, ModelVersion
from parity.core.run import short_run_id

LINEAGE_FORMAT = 1


@dataclass(frozen=True)
class CodeFacts:
    commit: str | None
    branch: str | None
    dirty: bool
    repository: str | None = None
    diff_blob: str | None = None


@dataclass(frozen=True)
class DataInput:
    path: str
    data_version: str | None


@dataclass(frozen=True)
class ReproFacts:
    """One repro of a run: the run that re-derived it and the verdict."""

    run_id: str
    verdict: str
    created_ms: int


@dataclass(frozen=True)
class RunFacts:
    """What lineage needs of a run, independent of how tracking stores it."""

    id: str
    status: str
    name: str | None = None
    experiment: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, float | None] = field(default_factory=dict)  # the last value of each
    code: CodeFacts | None = None
    environment_id: str | None = None
    inputs: tuple[DataInput, ...] = ()
    parent_id: str | None = None
    reproduces: str | None = None  # the run this one re-derived (it is a repro)
    reproductions: tuple[ReproFacts, ...] = ()  # repros of this run, oldest first


# Repros of one run shown in a graph: the latest few tell whether it still reproduces.
SHOWN_REPRODUCTIONS = 5


@dataclass(frozen=True)
class LineageNode:
    id: str  # "kind:key", unique in one graph
    # "model_version" | "model" | "run" | "code" | "data" | "environment" | "reproduction";
    # deployment adds "infra", "export" and "deployment" (parity.deploy.lineage)
    kind: str
    label: str
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "attributes": dict(self.attributes),
        }


@dataclass(frozen=True)
class LineageEdge:
    source: str
    target: str
    relation: (
        str  # "points to", "made by", "environment", "code", "input", "child of", "reproduced by"
    )

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "target": self.target, "relation": self.relation}


@dataclass(frozen=True)
class Lineage:
    root: str
    nodes: tuple[LineageNode, ...]
    edges: tuple[LineageEdge, ...]
    # Runs named by the graph that the tracking store did not have (deleted, or another store).
    missing_runs: tuple[str, ...] = ()

    def node(self, node_id: str) -> LineageNode:
        return next(n for n in self.nodes if n.id == node_id)

    def of_kind(self, kind: str) -> tuple[LineageNode, ...]:
        return tuple(n for n in self.nodes if n.kind == kind)

    def children(self, node_id: str) -> tuple[LineageEdge, ...]:
        return tuple(e for e in self.edges if e.source == node_id)

    def summary(self) -> dict[str, Any]:
        """The ids a person or a script asks for first, gathered from the nodes."""

        def keys(kind: str) -> list[str]:
            return [n.id.split(":", 1)[1] for n in self.of_kind(kind)]

        return {
            "model_version": next((n.label for n in self.of_kind("model_version")), None),
            "model_id": next(iter(keys("model")), None),
            "run_ids": keys("run"),
            "commits": sorted({str(n.attributes["commit"]) for n in self.of_kind("code")}),
            "environment_ids": keys("environment"),
            "data_version_ids": keys("data"),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": LINEAGE_FORMAT,
            "root": self.root,
            "summary": self.summary(),
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
            "missing_runs": list(self.missing_runs),
        }

    def tree(self, describe: Callable[[LineageNode], str]) -> Sequence[str]:
        """The graph as indented lines from the root; a node reached twice is shown once in full."""
        lines: list[str] = []
        shown: set[str] = set()

        def walk(node_id: str, depth: int, relation: str | None) -> None:
            node = self.node(node_id)
            prefix = "  " * depth + (f"{relation} → " if relation else "")
            if node_id in shown:
                lines.append(f"{prefix}{node.kind.replace('_', ' ')} {node.label} (see above)")
                return
            shown.add(node_id)
            lines.append(prefix + describe(node))
            for edge in self.children(node_id):
                walk(edge.target, depth + 1, edge.relation)

        walk(self.root, 0, None)
        return lines

    def to_dot(self) -> str:
        """Graphviz DOT: every string quoted and escaped, so any path or branch name is safe."""
        lines = [
            "digraph lineage {",
            "  rankdir=LR;",
            '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
        ]
        for node in self.nodes:
            label = "\\n".join(_dot_escape(line) for line in _dot_lines(node))
            fill = _FILL.get(node.kind, "white")
            lines.append(f'  "{_dot_escape(node.id)}" [label="{label}", fillcolor="{fill}"];')
        for edge in self.edges:
            lines.append(
                f'  "{_dot_escape(edge.source)}" -> "{_dot_escape(edge.target)}" '
                f'[label="{_dot_escape(edge.relation)}"];'
            )
        lines.append("}")
        return "\n".join(lines) + "\n"


_FILL = {
    "reproduction": "#f2b8a0",
    "model_version": "#f5d76e",
    "model": "#f8e9a1",
    "run": "#a8d5e2",
    "code": "#d3d3d3",
    "data": "#b8e0a8",
    "environment": "#e2c2e8",
    "infra": "#f4c7a1",
    "export": "#c9d6f0",
    "deployment": "#9fd8b8",
}


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _dot_lines(node: LineageNode) -> list[str]:
    lines = [f"{node.kind.replace('_', ' ')}: {node.label}"]
    for key in ("flavor", "status", "branch", "path", "description", "verdict"):
        if node.attributes.get(key) is not None:
            lines.append(f"{key}: {node.attributes[key]}")
    return lines


class _Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, LineageNode] = {}
        self.edges: dict[tuple[str, str, str], LineageEdge] = {}

    def add(self, node: LineageNode) -> str:
        self.nodes.setdefault(node.id, node)
        return node.id

    def link(self, source: str, target: str, relation: str) -> None:
        self.edges.setdefault((source, target, relation), LineageEdge(source, target, relation))


def short(identifier: str) -> str:
    return identifier[:12]


EnvironmentFacts = Callable[[str], Mapping[str, Any] | None]


def _no_facts(environment_id: str) -> Mapping[str, Any] | None:
    return None


def _environment(graph: _Graph, environment_id: str, facts: EnvironmentFacts) -> str:
    node_id = f"environment:{environment_id}"
    if node_id in graph.nodes:
        return node_id
    attributes = {"id": environment_id, **(facts(environment_id) or {})}
    return graph.add(LineageNode(node_id, "environment", short(environment_id), attributes))


def _run(graph: _Graph, run: RunFacts, environments: EnvironmentFacts) -> str:
    run_node = graph.add(
        LineageNode(
            f"run:{run.id}",
            "run",
            run.name or short_run_id(run.id),
            {
                "id": run.id,
                "status": run.status,
                "experiment": run.experiment,
                "params": dict(run.params),
                "metrics": dict(run.metrics),
                "parent_id": run.parent_id,
                "reproduces": run.reproduces,
            },
        )
    )
    for repro in run.reproductions[-SHOWN_REPRODUCTIONS:]:
        repro_node = graph.add(
            LineageNode(
                f"reproduction:{repro.run_id}",
                "reproduction",
                f"{repro.verdict} ({short_run_id(repro.run_id)})",
                {"run_id": repro.run_id, "verdict": repro.verdict, "created_ms": repro.created_ms},
            )
        )
        graph.link(run_node, repro_node, "reproduced by")
    if run.code is not None and run.code.commit is not None:
        dirty = "+dirty" if run.code.dirty else ""
        # Two dirty states on one commit differ by their diff: keep them apart.
        key = run.code.commit
        if run.code.dirty:
            key += f"+dirty:{run.code.diff_blob or run.id}"
        code_node = graph.add(
            LineageNode(
                f"code:{key}",
                "code",
                short(run.code.commit) + dirty,
                {
                    "commit": run.code.commit,
                    "branch": run.code.branch,
                    "dirty": run.code.dirty,
                    "repository": run.code.repository,
                    "diff_blob": run.code.diff_blob,
                },
            )
        )
        graph.link(run_node, code_node, "code")
    for data in run.inputs:
        if data.data_version is None:
            continue
        data_node = graph.add(
            LineageNode(
                f"data:{data.data_version}",
                "data",
                short(data.data_version),
                {"path": data.path, "data_version": data.data_version},
            )
        )
        graph.link(run_node, data_node, "input")
    if run.environment_id is not None:
        environment = _environment(graph, run.environment_id, environments)
        graph.link(run_node, environment, "environment")
    return run_node


def build_lineage(
    version: ModelVersion | None,
    record: ModelRecord,
    model_id: str,
    find_run: Callable[[str], RunFacts | None],
    run_id: str | None = None,
    environments: EnvironmentFacts = _no_facts,
) -> Lineage:
    """The lineage graph of a model (a registered ``version``, or a logged model on its own),
    following parent runs until none is left.

    ``run_id`` is the run that made the model (default: the one the version was registered from);
    ``find_run`` returns a run's facts, or None when the tracking store has no such run;
    ``environments`` the attributes to show of an environment (its description), if known.
    """
    graph = _Graph()
    model_node = graph.add(
        LineageNode(
            f"model:{model_id}",
            "model",
            short(model_id),
            {
                "flavor": record.flavor,
                "environment_id": record.environment_id,
                "files": [
                    {"path": f.path, "digest": f.digest, "size": f.size} for f in record.files
                ],
                "requirements": dict(record.requirements),
            },
        )
    )
    root = model_node
    if version is not None:
        root = graph.add(
            LineageNode(
                f"model_version:{version.ref}",
                "model_version",
                version.ref,
                {
                    "name": version.name,
                    "version": version.version,
                    "aliases": list(version.aliases),
                    "locked": version.locked,
                    "created_by": version.created_by,
                    "created_ms": version.created_ms,
                },
            )
        )
        graph.link(root, model_node, "points to")
    if record.environment_id is not None:
        environment = _environment(graph, record.environment_id, environments)
        graph.link(model_node, environment, "environment")

    missing: list[str] = []
    seen: set[str] = set()
    child_node, relation = model_node, "made by"
    pending = run_id or (version.run_id if version is not None else None)
    while pending is not None and pending not in seen:  # a cycle cannot loop forever
        seen.add(pending)
        run = find_run(pending)
        if run is None:
            missing.append(pending)
            break
        run_node = _run(graph, run, environments)
        graph.link(child_node, run_node, relation)
        child_node, relation, pending = run_node, "child of", run.parent_id
    nodes = sorted(graph.nodes.values(), key=lambda n: n.id != root)  # the root first
    return Lineage(root, tuple(nodes), tuple(graph.edges.values()), tuple(missing))
