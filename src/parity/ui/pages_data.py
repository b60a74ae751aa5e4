"""Data versions: the ones the workspace stored, and one version's files and validation
verdicts (``parity data validate``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path as PathParameter
from fastapi import Request
from starlette.responses import Response

from parity.api import data as data_api
from parity.core.roles import Role
from parity.data.manifest import DATA_KIND, DataVersion
from parity.ui.page import Page, Viewer, WorkspaceOf
from parity.ui.templating import render

LISTED = 200
FILES_SHOWN = 500
VersionReference = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{4,64}$")]


def data_page(request: Request, ws: WorkspaceOf, viewer: Viewer) -> Response:
    """The stored data versions (the first 200 by id): files, size, validation verdicts."""
    found = []
    for version_id in ws.meta.record_ids(DATA_KIND, limit=LISTED):
        version = DataVersion.from_record(ws.records.get(version_id, kind=DATA_KIND))
        verdicts = [v.ok for _, v in data_api.validations(version_id, workspace=ws)]
        found.append((version_id, version, verdicts))
    return render(request, "data.html", viewer, versions=found)


def data_version_page(
    request: Request, version: VersionReference, ws: WorkspaceOf, viewer: Viewer
) -> Response:
    """One data version: its files (the first 500) and every validation recorded on it."""
    version_id = ws.records.resolve(version, kind=DATA_KIND)
    manifest = DataVersion.from_record(ws.records.get(version_id, kind=DATA_KIND))
    return render(
        request, "data_version.html", viewer, version_id=version_id, manifest=manifest,
        files=manifest.files[:FILES_SHOWN],
        validations=data_api.validations(version_id, workspace=ws),
    )  # fmt: skip


PAGES = (
    Page("GET", "/data", Role.READER, data_page, "Show the data versions"),
    Page("GET", "/data/{version}", Role.READER, data_version_page, "Show a data version"),
)
