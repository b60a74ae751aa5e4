"""docs/openapi.json is the description a server serves: a route change shows in its diff."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from parity.server.describe import describe, render
from tests.server.live import team_server

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_the_committed_description_is_the_one_the_route_table_makes() -> None:
    assert json.loads(COMMITTED.read_text("utf-8")) == describe(), (
        "the API changed: regenerate with 'python -m parity.server.describe > docs/openapi.json'"
    )


def test_the_description_is_openapi_3_1_with_every_route_and_its_role() -> None:
    document = describe()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["version"] == "1"
    operations = [op for methods in document["paths"].values() for op in methods.values()]
    for operation in operations:
        assert "default" in operation["responses"]
        assert ("x-parity-role" in operation) == (operation["security"] != [])


def test_the_module_prints_it_and_a_server_serves_it(tmp_path: Path) -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "parity.server.describe"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert printed.stdout == render()
    with team_server(tmp_path / "served") as server:
        served = httpx.get(f"{server.url}/api/v1/openapi.json").json()
    assert served == describe()
