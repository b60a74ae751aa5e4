"""The lineage drawing's links: every box that has a page opens it (issue 15, item 4)."""

from __future__ import annotations

import httpx

from parity.api import runs as runs_api
from parity.registry.lineage import Lineage, LineageEdge, LineageNode
from parity.ui.lineage_svg import layout
from tests.ui.conftest import ServedUI

RUN = "0190ab12cd34ef56"
DATA = "d" * 64
ENVIRONMENT = "e" * 64


def _lineage() -> Lineage:
    nodes = (
        LineageNode("model_version:churn/2", "model_version", "churn/2"),
        LineageNode("model:" + "m" * 64, "model", "mmmmmmmm"),
        LineageNode(f"run:{RUN}", "run", "baseline"),
        LineageNode("code:abc123+dirty:x", "code", "abc123+dirty"),
        LineageNode(f"data:{DATA}", "data", "dddddddddddd", {"path": "train.csv"}),
        LineageNode(f"environment:{ENVIRONMENT}", "environment", "eeeeeeee"),
    )
    edges = (
        LineageEdge("model_version:churn/2", "model:" + "m" * 64, "points to"),
        LineageEdge("model:" + "m" * 64, f"run:{RUN}", "made by"),
        LineageEdge(f"run:{RUN}", "code:abc123+dirty:x", "code"),
        LineageEdge(f"run:{RUN}", f"data:{DATA}", "input"),
        LineageEdge(f"run:{RUN}", f"environment:{ENVIRONMENT}", "environment"),
    )
    return Lineage("model_version:churn/2", nodes, edges)


def test_every_box_links_to_its_page() -> None:
    links = {box.kind: box.href for box in layout(_lineage()).boxes}
    assert links == {
        "model_version": "/models/churn?version=2",
        "model": f"/runs/{RUN}#artifacts",
        "run": f"/runs/{RUN}",
        "code": f"/runs/{RUN}#code",
        "data": f"/data/{DATA}",
        "environment": f"/environments/{ENVIRONMENT}",
    }


def test_a_data_box_names_its_path() -> None:
    data = next(box for box in layout(_lineage()).boxes if box.kind == "data")
    assert data.label == "train.csv @ dddddddddddd"


def test_the_model_page_s_lineage_opens_the_data_version_read(served: ServedUI) -> None:
    baseline = runs_api.get(served.scenario.baseline, workspace=served.context.workspace)
    version = baseline.inputs[0].data_version
    page = httpx.get(
        f"{served.url}/models/churn?version=1",
        headers={"Authorization": f"Bearer {served.tokens['reader']}"},
    )
    assert f'<a href="/data/{version}">' in page.text
    assert f'<a href="/runs/{baseline.id}#artifacts">' in page.text  # the model box
    assert "/data?version=" not in page.text
