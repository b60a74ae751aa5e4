"""Schemathesis against a live server's /api/v1/openapi.json: every operation, valid and
invalid requests, with no token, a reader's and a writer's. No 5xx, no response outside the
description, and no request past the gate without the role its route declares.

The operations come from the description the route table generates, so a route added to the
table is fuzzed here too; the example count stays small so the whole file runs in well under a
minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from parity.core.roles import Role
from parity.server.describe import describe
from tests.server.live import TeamServer, team_server

# Examples per operation, per token, per mode (valid, invalid).
EXAMPLES = 5
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
OPERATIONS = [
    (path, method.upper(), operation.get("x-parity-role"))
    for path, methods in describe()["paths"].items()
    for method, operation in methods.items()
]
CALLERS = ("anonymous", "reader", "writer")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamServer]:
    with team_server(tmp_path_factory.mktemp("fuzzed") / "served") as running:
        yield running


@pytest.fixture(scope="module")
def schema(server: TeamServer) -> Any:
    return schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")


def _expected_caller(sent: str | None, server: TeamServer) -> Role | None:
    """The role the gate must see for the Authorization header actually sent (schemathesis
    drops or garbles it in some invalid requests): None for no valid token."""
    by_header = {f"Bearer {token}": role for role, token in server.tokens.items()}
    return by_header.get(sent or "")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    ("path", "method", "needed"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS]
)
def test_the_api_keeps_its_description_and_its_roles_under_fuzzing(
    server: TeamServer, schema: Any, path: str, method: str, needed: str | None, caller: str
) -> None:
    operation = schema[path][method]
    headers = {}
    if caller != "anonymous":
        headers["Authorization"] = f"Bearer {server.tokens[Role.parse(caller)]}"
    required = None if needed is None else Role.parse(needed)
    seen: list[int] = []

    def check(case: Any) -> None:
        response = case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)
        seen.append(response.status_code)
        if required is None:
            return
        role = _expected_caller(response.request.headers.get("Authorization"), server)
        status = response.status_code
        where = f"{method} {path} as {role.label if role else 'nobody'}: {status}"
        if role is None:
            assert status == 401, where
        elif role < required:
            assert status == 403, where
        else:
            assert status not in (401, 403), where

    raw = operation.definition.raw
    # An operation with no parameters and no body has no invalid request to make.
    takes_input = bool(raw.get("parameters") or raw.get("requestBody"))
    modes = [GenerationMode.POSITIVE] + [GenerationMode.NEGATIVE] * takes_input
    for mode in modes:
        run = settings(
            max_examples=EXAMPLES,
            database=None,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )(given(operation.as_strategy(generation_mode=mode))(check))
        run()
    assert seen, "no request was sent"
