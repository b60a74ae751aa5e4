"""Data: the versioned paths of the work tree and each one's versions by git commit and time,
the stored data versions, and one version's files, validation verdicts (``parity data
validate``) and the runs that read it and wrote it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path as PathParameter
from fastapi import Query, Request
from starlette.responses import Response

from parity.api import data as data_api
from parity.api import runs as runs_api
from parity.core.errors import NotFoundError, ParityError
from parity.core.roles import Role
from parity.data.manifest import DATA_KIND, DataVersion
from parity.ui.page import Page, Viewer, WorkspaceOf
from parity.ui.templating import render
from parity.workspace import Workspace

LISTED = 200
FILES_SHOWN = 500
COMMITS_SHOWN = 100
READERS_SHOWN = 50
VersionReference = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{4,64}$")]
# A versioned path as ``data.paths()`` names it; only one of those is looked up.
DataPath = Annotated[str, Query(pattern=r"^[^\x00]{1,1000}$")]


def _readers(ws: Workspace, data_version: str) -> tuple[list[str], dict[str, str]]:
    """The runs that read ``data_version`` (the first 50) and their short ids."""
    found = data_api.readers(data_version, workspace=ws)[:READERS_SHOWN]
    return found, runs_api.short_ids(found, workspace=ws) if found else {}


def _writers(ws: Workspace, data_version: str) -> tuple[list[str], dict[str, str]]:
    """The runs that wrote ``data_version`` as an output (the first 50) and their short ids."""
    found = data_api.writers(data_version, workspace=ws)[:READERS_SHOWN]
    return found, runs_api.short_ids(found, workspace=ws) if found else {}


def data_page(request: Request, ws: WorkspaceOf, viewer: Viewer) -> Response:
    """The versioned paths of the work tree, and the stored data versions (the first 200 by
    id): files, size, validation verdicts."""
    paths, paths_error = {}, None
    try:
        paths = data_api.paths(workspace=ws)
    except ParityError as failure:
        paths_error = failure
    found = []
    for version_id in ws.meta.record_ids(DATA_KIND, limit=LISTED):
        version = DataVersion.from_record(ws.records.get(version_id, kind=DATA_KIND))
        verdicts = [v.ok for _, v in data_api.validations(version_id, workspace=ws)]
        found.append((version_id, version, verdicts))
    return render(
        request, "data.html", viewer, versions=found, paths=paths, paths_error=paths_error
    )


def data_history_page(
    request: Request, ws: WorkspaceOf, viewer: Viewer, path: DataPath
) -> Response:
    """One versioned path's versions from git history, newest first: commit, time, size, files,
    the validation verdicts of each version and the runs that read it."""
    if path not in data_api.paths(workspace=ws):  # never a path the work tree does not version
        raise NotFoundError(f"{path} is not a versioned path here", hint="pick one on /data")
    commits, error = [], None
    try:
        commits = data_api.history(ws.root / path, workspace=ws)[:COMMITS_SHOWN]
    except ParityError as failure:
        error = failure
    versions = {c.pointer.data_version for c in commits if c.pointer}
    verdicts = {v: [x.ok for _, x in data_api.validations(v, workspace=ws)] for v in versions}
    readers = {v: _readers(ws, v) for v in versions}
    writers = {v: _writers(ws, v) for v in versions}
    return render(
        request, "data_history.html", viewer, data_path=path, commits=commits, error=error,
        verdicts=verdicts, readers=readers, writers=writers,
    )  # fmt: skip


def data_version_page(
    request: Request, version: VersionReference, ws: WorkspaceOf, viewer: Viewer
) -> Response:
    """One data version: its files (the first 500), every validation recorded on it, the
    runs that wrote it (outputs) and the runs that read it (inputs)."""
    version_id = ws.records.resolve(version, kind=DATA_KIND)
    manifest = DataVersion.from_record(ws.records.get(version_id, kind=DATA_KIND))
    readers, short = _readers(ws, version_id)
    writers, short_writers = _writers(ws, version_id)
    read = [runs_api.get(r, workspace=ws) for r in readers]
    written = [runs_api.get(r, workspace=ws) for r in writers]
    # The paths it was at, as the runs that read or wrote it recorded them.
    paths = sorted(
        {d.path for r in read for d in r.inputs if d.data_version == version_id}
        | {d.path for r in written for d in r.outputs if d.data_version == version_id}
    )
    return render(
        request, "data_version.html", viewer, version_id=version_id, manifest=manifest,
        files=manifest.files[:FILES_SHOWN],
        validations=data_api.validations(version_id, workspace=ws),
        readers=read, writers=written, short={**short, **short_writers}, paths=paths,
    )  # fmt: skip


PAGES = (
    Page("GET", "/data", Role.READER, data_page, "Show the data versions"),
    Page("GET", "/data/history", Role.READER, data_history_page,
         "Show a data path's versions"),
    Page("GET", "/data/{version}", Role.READER, data_version_page, "Show a data version"),
)  # fmt: skip
