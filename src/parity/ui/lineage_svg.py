"""A lineage graph (model → run → code, data, environment) laid out for an SVG: one column per
distance from the root, nodes stacked in each column. Pure: positions only."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from parity.registry.lineage import Lineage

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


def _href(kind: str, key: str) -> str | None:
    if kind == "run":
        return f"/runs/{key}"
    if kind == "environment":
        return f"/environments/{key}"
    if kind == "data":
        return f"/data?version={key}"
    if kind == "model_version" and "/" in key:
        return f"/models/{key.split('/')[0]}"
    return None


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
        key = node.id.partition(":")[2]
        label = node.label if len(node.label) <= 28 else node.label[:27] + "…"
        boxes.append(Box(node.id, node.kind, label, x, y, _href(node.kind, key)))
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
