"""A lineage graph (model → run → code, data, environment) laid out for an SVG: one column per
distance from the root, nodes stacked in each column. Pure: positions only."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from urllib.parse import quote

from parity.registry.lineage import Lineage, LineageNode

NODE_W, NODE_H, GAP_X, GAP_Y, MARGIN = 190, 44, 60, 16, 10


@dataclass(frozen=True)
class Box:
    id: str
    kind: str
    label: str
    x: int
    y: int
    href: str | None


@dataclass(frozen=True)
class Line:
    x1: int
    y1: int
    x2: int
    y2: int
    relation: str


@dataclass(frozen=True)
class Drawing:
    width: int
    height: int
    boxes: tuple[Box, ...]
    lines: tuple[Line, ...]


def _href(lineage: Lineage, node: LineageNode) -> str | None:
    """The page a box opens: a node's own page, or the section of the run page that shows it
    (a commit and its diff; a model's files, each downloadable)."""
    key = node.id.partition(":")[2]
    if node.kind == "run":
        return f"/runs/{key}"
    if node.kind == "reproduction":
        return f"/runs/{node.attributes.get('run_id', key)}"
    if node.kind == "environment":
        return f"/environments/{key}"
    if node.kind == "data":
        return f"/data/{key}"
    if node.kind == "model_version" and "/" in key:
        name, _, version = key.partition("/")
        return f"/models/{quote(name)}?version={quote(version)}"
    run = _run_next_to(lineage, node)
    if node.kind == "code" and run is not None:
        return f"/runs/{run}#code"
    if node.kind == "model" and run is not None:
        return f"/runs/{run}#artifacts"
    return None


def _run_next_to(lineage: Lineage, node: LineageNode) -> str | None:
    """The run a code box hangs from, or that made a model."""
    for edge in lineage.edges:
        ends = (edge.source, edge.target)
        if node.id in ends:
            other = ends[1] if ends[0] == node.id else ends[0]
            if other.startswith("run:"):
                return other.partition(":")[2]
    return None


def _label(node: LineageNode) -> str:
    text = node.label
    if node.kind == "data" and node.attributes.get("path"):  # which file, not only its version
        text = f"{node.attributes['path']} @ {node.label}"
    return text if len(text) <= 28 else text[:27] + "…"


def layout(lineage: Lineage) -> Drawing:
    depth = {lineage.root: 0}
    queue = deque([lineage.root])
    while queue:
        current = queue.popleft()
        for edge in lineage.children(current):
            if edge.target not in depth:
                depth[edge.target] = depth[current] + 1
                queue.append(edge.target)
    for node in lineage.nodes:  # unreachable from the root: one column past the last
        depth.setdefault(node.id, max(depth.values()) + 1)
    rows: dict[int, int] = {}
    where: dict[str, tuple[int, int]] = {}
    boxes = []
    for node in lineage.nodes:
        column = depth[node.id]
        row = rows.get(column, 0)
        rows[column] = row + 1
        x = MARGIN + column * (NODE_W + GAP_X)
        y = MARGIN + row * (NODE_H + GAP_Y)
        where[node.id] = (x, y)
        boxes.append(Box(node.id, node.kind, _label(node), x, y, _href(lineage, node)))
    lines = [
        Line(
            where[e.source][0] + NODE_W,
            where[e.source][1] + NODE_H // 2,
            where[e.target][0],
            where[e.target][1] + NODE_H // 2,
            e.relation,
        )
        for e in lineage.edges
        if e.source in where and e.target in where
    ]
    columns = max(depth.values(), default=0) + 1
    height = MARGIN * 2 + max(rows.values(), default=1) * (NODE_H + GAP_Y)
    return Drawing(MARGIN * 2 + columns * (NODE_W + GAP_X), height, tuple(boxes), tuple(lines))
