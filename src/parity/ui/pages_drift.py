"""Drift of a served model: each feature's PSI and KS statistic against its limits, as bars,
from the inputs logged while serving it (``parity monitor drift``), and the same check window
by window over time (``monitor.drift_windows``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from starlette.responses import Response

from parity.api import data as data_api
from parity.api import models as models_api
from parity.api import monitor as monitor_api
from parity.api import runs as runs_api
from parity.core.durations import parse_duration
from parity.core.errors import NotFoundError, ParityError, UsageError
from parity.core.roles import Role, Scope
from parity.monitor.drift import DriftReport
from parity.ui.page import DISCONNECTED_STATE, ModelName, Page, Viewer, WorkspaceOf
from parity.ui.templating import render
from parity.workspace import Workspace

_WORD = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}"
Version = Annotated[str, Query(pattern=rf"^(@{_WORD}|/[1-9][0-9]{{0,17}})$")]
Since = Annotated[str, Query(pattern=r"^[1-9][0-9]{0,5}[mhdw]$")]
ProfileId = Annotated[str, Query(pattern=r"^([0-9a-f]{64})?$")]  # empty: the training data
SinceOrEmpty = Annotated[str, Query(pattern=r"^([1-9][0-9]{0,5}[mhdw])?$")]  # empty: not set
Window = Annotated[str, Query(pattern=r"^[1-9][0-9]{0,3}[mhdw]$")]
Windows = Annotated[int, Query(ge=1, le=30)]
_SHORTEST_WINDOW_MS, _LONGEST_WINDOW_MS = 30 * 60_000, 7 * 86_400_000


def drift_page(
    request: Request,
    name: ModelName,
    ws: WorkspaceOf,
    viewer: Viewer,
    version: Version | None = None,
    since: Since = "7d",
    against: ProfileId | None = None,
    window: Window = "1d",
    windows: Windows = 7,
    baseline_from: SinceOrEmpty | None = None,
    baseline_until: SinceOrEmpty | None = None,
) -> Response:
    """The drift report of one version of a model (default: its latest, or ``@ALIAS``),
    over the inputs logged in the last ``since`` (``30m``, ``24h``, ``7d``), against the
    model's training profile, ``against`` another stored profile (a data version's), or the
    inputs served from ``baseline_from`` ago until ``baseline_until`` ago; and below it the
    drift of each of the last ``windows`` windows of length ``window``."""
    versions = models_api.versions(name, workspace=ws)
    reference = name + (version or (f"/{versions[-1].version}" if versions else ""))
    profiles = monitor_api.profiles(workspace=ws)
    against = against or None
    report, over_time, error, sampled = None, [], None, False
    try:
        if bool(baseline_from) != bool(baseline_until):
            raise UsageError("a baseline window needs both its start and its end")
        # In the form's words (two fields), not the command line's FROM..UNTIL.
        if (
            baseline_from
            and baseline_until
            and (parse_duration(baseline_from) <= parse_duration(baseline_until))
        ):
            raise UsageError(
                "the baseline window ends before it starts",
                hint="its first field is the longer time ago: from 14d ago until 7d ago",
            )
        baseline = (baseline_from, baseline_until) if baseline_from and baseline_until else None
        # Only a stored profile's full id: a page never names a file for the server to read.
        if against is not None and against not in {i for i, _ in profiles}:
            raise NotFoundError(f"no stored profile {against[:12]}", hint="pick one of the list")
        if not _SHORTEST_WINDOW_MS <= parse_duration(window) <= _LONGEST_WINDOW_MS:
            raise UsageError(f"a window of {window}: pick one from 30m to 1w")
        # Looking is not monitoring: a page view raises no drift alert (monitor watch does).
        # One view builds its reference once and reads a bounded number of rows per span;
        # it stops between windows once its browser has gone (``server.costly``).
        gone = request.scope.get("state", {}).get(DISCONNECTED_STATE)
        view = monitor_api.drift_view(
            reference,
            reference=against,
            since=since,
            window=window,
            count=windows,
            baseline=baseline,
            stop=gone.is_set if gone is not None else lambda: False,
            workspace=ws,
        )
        report, over_time, sampled = view.report, view.windows, view.sampled
    except ParityError as failure:
        error = failure
    return render(
        request, "drift.html", viewer, name=name, reference=reference, since=since,
        report=report, error=error, versions=versions, profiles=profiles, against=against,
        window=window, windows=windows, over_time=over_time,
        baseline_from=baseline_from or "", baseline_until=baseline_until or "",
        features=_feature_names([report, *(w.report for w in over_time)]),
        profile_paths=_profile_paths(ws, profiles),
        sampled=sampled, max_rows=monitor_api.MAX_VIEW_ROWS,
    )  # fmt: skip


def _profile_paths(ws: Workspace, profiles: list[tuple[str, Any]]) -> dict[str, str]:
    """The path of each profile's data version, as the first run that read it recorded it."""
    found: dict[str, str] = {}
    for profile_id, profile in profiles:
        version = getattr(profile, "data_version", None)
        if not version:
            continue
        for run_id in data_api.readers(version, workspace=ws)[:1]:
            run = runs_api.get(run_id, workspace=ws)
            path = next((d.path for d in run.inputs if d.data_version == version), None)
            if path:
                found[profile_id] = path
    return found


def _feature_names(reports: list[DriftReport | None]) -> list[str]:
    """The features of the first report that checked any (one without rows checked none)."""
    return next(([f.name for f in r.features] for r in reports if r and r.features), [])


PAGES = (
    Page("GET", "/models/{name}/drift", Role.READER, drift_page, "Show a model's drift",
         scope=(Scope.MODEL, "name"), costly=True),
)  # fmt: skip
