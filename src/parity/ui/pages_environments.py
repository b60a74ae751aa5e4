"""Environments: the recorded ones, one fingerprint (interpreter, platform, packages, native
libraries), and the risk-rated diff of any two."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from parity.api import environments as env_api
from parity.core.environment import ENV_KIND
from parity.core.roles import Role
from parity.env.records import describe
from parity.ui.page import EnvironmentReference, Page, Viewer, WorkspaceOf
from parity.ui.templating import render

LISTED = 200
Reference = Annotated[str, Query(min_length=1, max_length=200)]


def environments_page(request: Request, ws: WorkspaceOf, viewer: Viewer) -> Response:
    """The environments the workspace recorded (the first 200 by id), each summarised."""
    found = []
    for record_id in ws.meta.record_ids(ENV_KIND, limit=LISTED):
        found.append((record_id, describe(env_api.get(record_id, workspace=ws))))
    return render(request, "environments.html", viewer, environments=found)


def environment_page(
    request: Request, env_id: EnvironmentReference, ws: WorkspaceOf, viewer: Viewer
) -> Response:
    """One environment's fingerprint."""
    environment = env_api.get(env_id, workspace=ws)
    full_id = ws.records.resolve(env_id, kind=ENV_KIND)
    return render(request, "environment.html", viewer, env=environment, env_id=full_id)


def environment_diff_page(
    request: Request, ws: WorkspaceOf, viewer: Viewer, a: Reference, b: Reference
) -> Response:
    """Every difference between two environments, rated high / medium / low / info."""
    expected = env_api.get(a, workspace=ws)
    actual = env_api.get(b, workspace=ws)
    diff = env_api.diff(expected, actual)
    return render(request, "environment_diff.html", viewer, diff=diff, a=a, b=b)


PAGES = (
    Page("GET", "/environments", Role.READER, environments_page, "Show the environments"),
    Page("GET", "/environments/diff", Role.READER, environment_diff_page,
         "Compare two environments"),
    Page("GET", "/environments/{env_id}", Role.READER, environment_page,
         "Show an environment"),
)  # fmt: skip
