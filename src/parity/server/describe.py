"""The API's OpenAPI 3.1 description as a file: docs/openapi.json is this module's output.

Regenerate the committed copy after changing a route (a test fails while they differ)::

    python -m parity.server.describe > docs/openapi.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

from parity.server.app import build_api
from parity.server.route_table import ROUTES


def describe() -> dict[str, Any]:
    """The description a server with the full route table serves at /api/v1/openapi.json."""
    document: dict[str, Any] = build_api(ROUTES).openapi()
    return document


def render() -> str:
    """``describe()`` as stable, reviewable JSON: sorted keys, two-space indent."""
    return json.dumps(describe(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
