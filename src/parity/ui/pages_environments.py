"""Environments: the recorded ones, one fingerprint (interpreter, platform, packages, native
libraries), and the risk-rated diff of any two."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

from fastapi import Query, Request
from starlette.responses import Response

from parity.api import environments as env_api
from parity.api import models as models_api
from parity.api import runs as runs_api
from parity.core.environment import ENV_KIND
from parity.core.errors import NotFoundError, ParityError, UsageError
from parity.core.roles import Role
from parity.env.records import describe
from parity.ui.page import EnvironmentReference, Page, Viewer, WorkspaceOf
from parity.ui.templating import render
from parity.workspace import Workspace

if TYPE_CHECKING:
    from parity.api.environments import Finding

LISTED = 200
# An advisory's severity as the risk colour the diff uses for the same urgency; one that
# states none counts as high, as a gate counts it. Most severe first.
SEVERITY_RISK = {
    "critical": "high", "high": "high", "unknown": "high", "moderate": "medium", "low": "low",
}  # fmt: skip
_WORD = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}"
# An environment id or run id prefix, NAME@ALIAS or NAME/VERSION: never "current" or a path,
# which would make the server capture an interpreter or read a file of its own.
_REFERENCE = re.compile(rf"^([0-9a-f]{{4,64}}|{_WORD}(@{_WORD}|/[1-9][0-9]{{0,17}}))$")
Reference = Annotated[str, Query(max_length=500)]  # checked against _REFERENCE, in words


def _checked(reference: str) -> str:
    if not _REFERENCE.match(reference):
        raise UsageError(
            f"{reference[:80]!r} names no recorded environment",
            hint="give an environment id, a run id (or a prefix of either), NAME@ALIAS or "
            "NAME/VERSION; 'current' and files are for the command line, not the server",
        )
    return reference


def environment_id(ws: Workspace, reference: str) -> str:
    """The id of the environment an id prefix, a run or a model version names."""
    if "@" in reference or "/" in reference:
        found = models_api.record(reference, workspace=ws).environment_id
        if found is None:
            raise NotFoundError(f"{reference} has no recorded environment")
        return found
    try:
        return ws.records.resolve(reference, kind=ENV_KIND)
    except NotFoundError:
        try:
            run = runs_api.get(reference, workspace=ws)
        except NotFoundError:
            raise NotFoundError(
                f"no environment or run has an id starting with {reference}",
                hint="see the environments page, or a run's page for the environment it used",
            ) from None
        if run.environment_id is None:
            raise NotFoundError(f"run {run.id[:12]} has no recorded environment") from None
        return run.environment_id


def _most_severe_first(findings: Sequence[Finding]) -> list[Finding]:
    order = list(SEVERITY_RISK)
    return sorted(findings, key=lambda f: (order.index(f.severity), f.package, f.advisory))


def environments_page(request: Request, ws: WorkspaceOf, viewer: Viewer) -> Response:
    """The environments the workspace recorded (the first 200 by id), each summarised."""
    found = []
    for record_id in ws.meta.record_ids(ENV_KIND, limit=LISTED):
        found.append((record_id, describe(env_api.get(record_id, workspace=ws))))
    return render(request, "environments.html", viewer, environments=found)


def environment_page(
    request: Request, env_id: EnvironmentReference, ws: WorkspaceOf, viewer: Viewer
) -> Response:
    """One environment's fingerprint, and its audit findings when the server was given
    advisories (``--advisories``)."""
    full_id = environment_id(ws, env_id)
    environment = env_api.get(full_id, workspace=ws)
    advisories = request.app.state.context.settings.advisories
    audit, audit_error = None, None
    if advisories is not None:
        try:
            audit = env_api.audit(full_id, advisories, workspace=ws)
        except ParityError as failure:
            audit_error = failure
    return render(
        request, "environment.html", viewer, env=environment, env_id=full_id,
        advisories=advisories, audit=audit, audit_error=audit_error,
        findings=_most_severe_first(audit.findings if audit else ()), severity_risk=SEVERITY_RISK,
    )  # fmt: skip


def environment_diff_page(
    request: Request, ws: WorkspaceOf, viewer: Viewer, a: Reference, b: Reference
) -> Response:
    """Every difference between two environments, rated high / medium / low / info."""
    expected = env_api.get(environment_id(ws, _checked(a)), workspace=ws)
    actual = env_api.get(environment_id(ws, _checked(b)), workspace=ws)
    diff = env_api.diff(expected, actual)
    return render(request, "environment_diff.html", viewer, diff=diff, a=a, b=b)


PAGES = (
    Page("GET", "/environments", Role.READER, environments_page, "Show the environments"),
    Page("GET", "/environments/diff", Role.READER, environment_diff_page,
         "Compare two environments"),
    Page("GET", "/environments/{env_id}", Role.READER, environment_page,
         "Show an environment"),
)  # fmt: skip
