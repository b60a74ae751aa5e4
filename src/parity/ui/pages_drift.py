"""Drift of a served model: each feature's PSI and KS statistic against its limits, as bars,
from the inputs logged while serving it (``parity monitor drift``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from parity.api import models as models_api
from parity.api import monitor as monitor_api
from parity.core.errors import NotFoundError, ParityError
from parity.core.roles import Role, Scope
from parity.ui.page import ModelName, Page, Viewer, WorkspaceOf
from parity.ui.templating import render

_WORD = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}"
Version = Annotated[str, Query(pattern=rf"^(@{_WORD}|/[1-9][0-9]{{0,17}})$")]
Since = Annotated[str, Query(pattern=r"^[1-9][0-9]{0,5}[mhd]$")]
ProfileId = Annotated[str, Query(pattern=r"^([0-9a-f]{64})?$")]  # empty: the training data


def drift_page(
    request: Request,
    name: ModelName,
    ws: WorkspaceOf,
    viewer: Viewer,
    version: Version | None = None,
    since: Since = "7d",
    against: ProfileId | None = None,
) -> Response:
    """The drift report of one version of a model (default: its latest, or ``@ALIAS``),
    over the inputs logged in the last ``since`` (``30m``, ``24h``, ``7d``), against the
    model's training profile or ``against``, another stored profile (a data version's)."""
    versions = models_api.versions(name, workspace=ws)
    reference = name + (version or (f"/{versions[-1].version}" if versions else ""))
    profiles = monitor_api.profiles(workspace=ws)
    against = against or None
    report, error = None, None
    try:
        # Only a stored profile's full id: a page never names a file for the server to read.
        if against is not None and against not in {i for i, _ in profiles}:
            raise NotFoundError(f"no stored profile {against[:12]}", hint="pick one of the list")
        report = monitor_api.drift(reference, reference=against, since=since, workspace=ws)
    except ParityError as failure:
        error = failure
    return render(
        request, "drift.html", viewer, name=name, reference=reference, since=since,
        report=report, error=error, versions=versions, profiles=profiles, against=against,
    )  # fmt: skip


PAGES = (
    Page("GET", "/models/{name}/drift", Role.READER, drift_page, "Show a model's drift",
         scope=(Scope.MODEL, "name")),
)  # fmt: skip
