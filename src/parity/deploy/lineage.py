"""Lineage, extended: the infrastructure each run stored, the exports of the model version, and
where it runs. The registry's graph is built first (``parity.registry.lineage``); this adds the
nodes and edges deployment knows of, without changing what was there."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from parity.core.deployment import Deployment
from parity.core.infra import InfraSnapshot
from parity.deploy.exports import FiledExport
from parity.registry.lineage import Lineage, LineageEdge, LineageNode, short


def _infra_node(infra_id: str, snapshot: InfraSnapshot) -> LineageNode:
    return LineageNode(
        f"infra:{infra_id}",
        "infra",
        short(infra_id),
        {
            "id": infra_id,
            "patterns": list(snapshot.patterns),
            "files": [f.to_dict() for f in snapshot.files],
            "refused": [r.to_dict() for r in snapshot.refused],
        },
    )


def _export_node(filed: FiledExport) -> LineageNode:
    export = filed.export
    return LineageNode(
        f"export:{filed.id}",
        "export",
        f"{export.target} {short(filed.id)}",
        {
            "id": filed.id,
            "target": export.target,
            "image": export.image,
            "files": [f.to_dict() for f in export.files],
            "created_ms": filed.created_ms,
            "created_by": filed.created_by,
        },
    )


def _deployment_node(deployment: Deployment) -> LineageNode:
    return LineageNode(
        f"deployment:{deployment.place}:{deployment.name}",
        "deployment",
        deployment.place,
        deployment.to_dict(),
    )


def extend_lineage(
    lineage: Lineage,
    infra: Mapping[str, tuple[str, InfraSnapshot]],
    exports: Sequence[FiledExport] = (),
    deployments: Sequence[Deployment] = (),
) -> Lineage:
    """``lineage`` with each run's infrastructure (``infra``: run id -> (record id, snapshot)),
    and, under the model version at its root, its exports and current deployments."""
    nodes = list(lineage.nodes)
    edges = list(lineage.edges)
    known = {n.id for n in nodes}

    def add(node: LineageNode, source: str, relation: str) -> None:
        if node.id not in known:
            nodes.append(node)
            known.add(node.id)
        edges.append(LineageEdge(source, node.id, relation))

    for node in lineage.of_kind("run"):
        run_id = node.id.split(":", 1)[1]
        if run_id in infra:
            infra_id, snapshot = infra[run_id]
            add(_infra_node(infra_id, snapshot), node.id, "infrastructure")
    root = lineage.node(lineage.root)
    if root.kind == "model_version":
        for filed in exports:
            add(_export_node(filed), root.id, "exported as")
        for deployment in deployments:
            add(_deployment_node(deployment), root.id, "deployed to")
    return replace(lineage, nodes=tuple(nodes), edges=tuple(edges))
