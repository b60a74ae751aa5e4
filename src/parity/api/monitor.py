"""Monitoring: profile tables, check served inputs for drift, take labels, check performance.

A served model's inputs are compared with its training data's profile; ground-truth labels
that come back for its predictions are scored against the figures its training run logged.

>>> parity.api.monitor.drift("churn@production", since="24h").drifted   # doctest: +SKIP
>>> parity.api.monitor.performance("churn@production", window="1d").ok  # doctest: +SKIP
"""

from __future__ import annotations

import builtins
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.api._events import report_alert
from parity.api._session import session
from parity.core.durations import parse_duration
from parity.core.errors import NotFoundError, UsageError
from parity.core.events import DRIFT_ALERT, PERFORMANCE_ALERT
from parity.core.feedback import MAX_LABELS, LabelReceipt, read_feedback
from parity.core.ids import is_hex_prefix
from parity.core.model import ModelVersion
from parity.core.profile import PROFILE_KIND, Profile
from parity.core.run import RunView
from parity.monitor.drift import MIN_ROWS, DriftReport, check_drift
from parity.monitor.performance import (
    DEFAULT_TOLERANCE,
    MIN_LABELS,
    PerformanceReport,
    check_performance,
)
from parity.monitor.reference import store_profile
from parity.monitor.watch import WatchAlert, WatchTick, run_schedule
from parity.registry.loading import read_model_record
from parity.workspace import Workspace, now_ms

__all__ = [
    "DriftView",
    "DriftWindow",
    "WatchAlert",
    "WatchTick",
    "drift",
    "drift_view",
    "drift_windows",
    "feedback",
    "performance",
    "performance_history",
    "profile",
    "profiles",
    "watch",
]

_DURATION = re.compile(r"^(\d+)([smhd])$")
MAX_WINDOWS = 60  # a page of windows; each reads its own rows
# The most logged rows ``drift_view`` reads for one span (the report's, the baseline's, each
# window's): the newest of that span. Enough for KS and PSI to settle, and it bounds what
# one view costs whatever ranges it is asked for.
MAX_VIEW_ROWS = 20_000
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def profile(
    path: str | Path, *, data_version: str | None = None, workspace: Workspace | None = None
) -> str:
    """Profile a CSV or Parquet table for drift checks; returns the stored profile's id.

    >>> parity.api.monitor.profile("data/train.csv")   # doctest: +SKIP

    With ``data_version`` (the table's data version id) the profile is remembered as that
    version's, so a model trained on it is checked against it. ``run.use_data`` does this.
    """
    with session(workspace) as ws:
        return _profile_table(ws, Path(path), data_version)


def profiles(*, limit: int = 200, workspace: Workspace | None = None) -> list[tuple[str, Profile]]:
    """The stored profiles (the first ``limit`` by id), each with its id: what ``drift`` may
    take as its ``reference``.

    >>> [(i[:12], p.data_version, p.rows) for i, p in monitor.profiles()]  # doctest: +SKIP
    """
    with session(workspace) as ws:
        return [
            (profile_id, Profile.from_record(ws.records.get(profile_id, kind=PROFILE_KIND)))
            for profile_id in ws.records.meta.record_ids(PROFILE_KIND)[:limit]
        ]


def drift(
    model_reference: str,
    *,
    reference: str | None = None,
    since: str | dt.datetime | None = None,
    min_rows: int = MIN_ROWS,
    alert: bool = True,
    until: str | dt.datetime | None = None,
    baseline: tuple[str | dt.datetime, str | dt.datetime] | None = None,
    workspace: Workspace | None = None,
) -> DriftReport:
    """Compare the inputs logged while serving ``model_reference`` with its training profile.

    >>> report = parity.api.monitor.drift("churn@production", since="7d")   # doctest: +SKIP
    >>> report.ok, report.drifted                                           # doctest: +SKIP
    >>> monitor.drift("churn@production", since="7d", baseline=("14d", "7d"))  # doctest: +SKIP

    ``reference`` is a training table, its data version id or a profile id (default: the
    profiled input of the run that made the model). ``baseline``, instead of a reference, is
    an earlier serving window (from, until): the inputs the same version was served then,
    which need at least ``min_rows`` rows. ``since`` is ``30m``, ``24h``, ``7d``, an ISO time
    or a datetime; ``until`` (the same forms; ``24h`` is a day ago) leaves out the inputs
    logged from then on. With fewer than ``min_rows`` rows the report gives no verdict.
    Drift found is a ``monitor.drift_alert`` event (``alert=False``: none).
    """
    now = dt.datetime.now(dt.UTC)
    since_ms = None if since is None else _since_epoch_ms(since, now)
    until_ms = None if until is None else _since_epoch_ms(until, now)
    window = _baseline_ms(reference, baseline, now)
    with session(workspace) as ws:
        version = ws.registry.resolve(model_reference)
        check = _drift_checker(ws, version, reference, min_rows, window)
        report = check(since_ms, until_ms)
        if alert and report.enough_rows and report.drifted:
            report_alert(ws, DRIFT_ALERT, drift_alert_data(version, report))
        return report


@dataclass(frozen=True)
class DriftWindow:
    """One window of serving time and the drift of the inputs logged in it.

    It runs from ``start_ms`` (included) to ``end_ms`` (left out)."""

    start_ms: int
    end_ms: int
    report: DriftReport


def drift_windows(
    model_reference: str,
    *,
    window: str = "1d",
    count: int = 7,
    reference: str | None = None,
    min_rows: int = MIN_ROWS,
    until: dt.datetime | None = None,
    baseline: tuple[str | dt.datetime, str | dt.datetime] | None = None,
    workspace: Workspace | None = None,
) -> list[DriftWindow]:
    """Drift over time: one report per window of serving time, oldest first.

    Each report checks the inputs logged while serving ``model_reference`` in one of the last
    ``count`` windows of length ``window`` (``30m``, ``24h``, ``1d``, ``1w``) before ``until``
    (default: now) against the same reference (or ``baseline`` window) ``drift`` takes. A
    window with fewer than ``min_rows`` rows gives no verdict. Raises no alert.

    >>> [w.report.drifted for w in monitor.drift_windows("churn@production")]  # doctest: +SKIP
    """
    if not 1 <= count <= MAX_WINDOWS:
        raise UsageError(f"{count} windows: between 1 and {MAX_WINDOWS} may be asked for")
    length = parse_duration(window)
    now = dt.datetime.now(dt.UTC)
    end = int((until or now).timestamp() * 1000)
    bounds = [(end - (count - i) * length, end - (count - i - 1) * length) for i in range(count)]
    earlier = _baseline_ms(reference, baseline, now)
    with session(workspace) as ws:
        version = ws.registry.resolve(model_reference)
        check = _drift_checker(ws, version, reference, min_rows, earlier)
        return [DriftWindow(start, stop, check(start, stop)) for start, stop in bounds]


@dataclass(frozen=True)
class DriftView:
    """What the web UI's drift page shows: one report and the windows before ``end_ms``.

    ``sampled``: a span had more than ``max_rows`` logged rows, so its newest ``max_rows``
    were checked. ``stopped``: the caller asked to stop (its client left) before every window
    was checked, so ``windows`` holds those checked so far."""

    report: DriftReport
    windows: list[DriftWindow]
    max_rows: int
    sampled: bool
    stopped: bool


def drift_view(
    model_reference: str,
    *,
    since: str | dt.datetime = "7d",
    window: str = "1d",
    count: int = 7,
    reference: str | None = None,
    baseline: tuple[str | dt.datetime, str | dt.datetime] | None = None,
    min_rows: int = MIN_ROWS,
    max_rows: int = MAX_VIEW_ROWS,
    stop: Callable[[], bool] = lambda: False,
    workspace: Workspace | None = None,
) -> DriftView:
    """``drift`` since ``since`` and ``drift_windows`` (``count`` windows of ``window``)
    together, at a bounded cost: the reference (or baseline) profile is built once, each span
    reads at most the newest ``max_rows`` rows, and ``stop`` (checked between windows) ends it
    early. Raises no alert.

    >>> view = monitor.drift_view("churn@prod", window="1h", count=24)  # doctest: +SKIP
    >>> view.report.drifted, [w.report.drifted for w in view.windows]  # doctest: +SKIP
    """
    if not 1 <= count <= MAX_WINDOWS:
        raise UsageError(f"{count} windows: between 1 and {MAX_WINDOWS} may be asked for")
    length = parse_duration(window)
    now = dt.datetime.now(dt.UTC)
    since_ms = _since_epoch_ms(since, now)
    end = int(now.timestamp() * 1000)
    earlier = _baseline_ms(reference, baseline, now)
    sampled = False

    def note(rows: int) -> None:
        nonlocal sampled
        sampled = sampled or rows > max_rows

    with session(workspace) as ws:
        version = ws.registry.resolve(model_reference)
        check = _drift_checker(ws, version, reference, min_rows, earlier, max_rows, note)
        report = check(since_ms, None)
        windows: list[DriftWindow] = []
        for i in range(count):
            if stop():
                return DriftView(report, windows, max_rows, sampled, stopped=True)
            start = end - (count - i) * length
            windows.append(DriftWindow(start, start + length, check(start, start + length)))
        return DriftView(report, windows, max_rows, sampled, stopped=False)


def drift_alert_data(version: ModelVersion, report: DriftReport) -> dict[str, Any]:
    """What a ``monitor.drift_alert`` event says: the version, the drifted features, the sizes."""
    return {
        "model": version.name,
        "version": version.version,
        "ref": version.ref,
        "rows": report.rows,
        "drifted": list(report.drifted),
        "features": {
            f.name: {"psi": round(f.psi, 6), "ks": None if f.ks is None else round(f.ks, 6)}
            for f in report.features
            if f.drifted
        },
    }


def watch(
    model_reference: str,
    *,
    every: str = "10m",
    on_alert: str | None = None,
    on_alert_timeout: str = "10m",
    once: bool = False,
    since: str | None = None,
    reference: str | None = None,
    min_rows: int = MIN_ROWS,
    on_tick: Callable[[WatchTick], None] = lambda _: None,
    workspace: Workspace | None = None,
) -> builtins.list[WatchTick]:
    """Run ``model_reference``'s checks (drift; performance where this Parity has it) now and
    every ``every`` (``30s``, ``10m``, ``1h``) until interrupted, or once with ``once``. Each
    alert is an event; ``on_alert`` is a command (split like a shell's words, run without one)
    run after a tick with alerts, which it finds in ``PARITY_ALERT_*`` variables, and stopped
    when it runs longer than ``on_alert_timeout`` (the tick then says so).

    >>> ticks = parity.api.monitor.watch("churn@production", once=True,
    ...                                  on_alert="make retrain")   # doctest: +SKIP
    >>> ticks[0].alerted                                             # doctest: +SKIP

    ``since`` limits each check to inputs logged in that window (``24h``) before the tick;
    ``reference`` is the drift check's training data, as for ``drift``.
    """
    from parity.api._watch import split_command, watch_tick  # lazy: only to watch

    every_s = parse_duration(every) / 1000
    argv = None if on_alert is None else split_command(on_alert)
    command_timeout_s = parse_duration(on_alert_timeout) / 1000

    def drift_check(
        ws: Workspace, version: ModelVersion, since_ms: int | None, rows: int
    ) -> tuple[str, WatchAlert | None]:
        return _drift_check(ws, version, since_ms, rows, reference)

    with session(workspace) as ws:

        def tick() -> WatchTick:
            now = dt.datetime.now(dt.UTC)
            since_ms = None if since is None else _since_epoch_ms(since, now)
            checks = {"drift": drift_check, "performance": _performance_check}
            return watch_tick(
                ws, model_reference, argv, since_ms, min_rows, checks, command_timeout_s
            )

        return run_schedule(tick, every_s, once=once, on_tick=on_tick)


def _drift_check(
    workspace: Workspace,
    version: ModelVersion,
    since_ms: int | None,
    min_rows: int,
    reference: str | None,
) -> tuple[str, WatchAlert | None]:
    report = _check_version_drift(workspace, version, reference, since_ms, min_rows)
    if not report.enough_rows:
        return f"{report.rows} rows, fewer than {report.min_rows}: no verdict", None
    if not report.drifted:
        return f"no drift over {report.rows} rows", None
    summary = f"input drift in {', '.join(report.drifted)} of {version.ref} over {report.rows} rows"
    data = drift_alert_data(version, report)
    return summary, WatchAlert(DRIFT_ALERT, summary, data=data)


def feedback(
    model_reference: str,
    labels: str | Path | Sequence[dict[str, Any]],
    *,
    request_id_column: str = "request_id",
    label_column: str = "label",
    row_column: str | None = None,
    workspace: Workspace | None = None,
) -> LabelReceipt:
    """Keep ground-truth labels of ``model_reference``'s served predictions, by request id.

    Each label joins the logged prediction whose response carried its ``X-Request-Id``.

    >>> receipt = parity.api.monitor.feedback("churn@production", "labels.csv")  # doctest: +SKIP
    >>> receipt.stored, receipt.unknown                                          # doctest: +SKIP
    (980, 20)

    ``labels`` is a CSV or Parquet table (its ``request_id_column`` and ``label_column``, and
    ``row_column`` for requests of several rows) or a list of ``{request_id, label[, row]}``.
    Labels of requests the log does not hold (not sampled, or another model's) are not kept:
    the receipt counts them and names the first few.
    """
    if isinstance(labels, (str, Path)):
        items = _read_labels(Path(labels), request_id_column, label_column, row_column)
    else:
        items = [
            item
            for start in range(0, len(labels), MAX_LABELS)
            for item in read_feedback(list(labels[start : start + MAX_LABELS]))
        ]
    with session(workspace) as ws:
        version = ws.registry.resolve(model_reference)
        return ws.monitoring.store_labels(version.name, items, now_ms())


def performance(
    model_reference: str,
    *,
    since: str | dt.datetime | None = None,
    window: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    min_labels: int = MIN_LABELS,
    record: bool = True,
    alert: bool = True,
    workspace: Workspace | None = None,
) -> PerformanceReport:
    """Score ``model_reference``'s labelled predictions against its training run's figures.

    Per window, each metric the run logged for the model's task is computed and compared with
    the run's own figure; ``report.ok`` is False when one is worse by more than ``tolerance``
    (relative).

    >>> report = parity.api.monitor.performance("churn@production", window="1d")  # doctest: +SKIP
    >>> report.status, report.degraded                                            # doctest: +SKIP
    ('degraded', ('accuracy in the window from 2026-12-05 11:00:00 UTC',))

    ``window`` is ``30m``, ``1h``, ``1d`` (time) or a number of labelled predictions (default:
    one window). A window with fewer than ``min_labels`` is not evaluated. The report is kept
    with the model version (``performance_history``) unless ``record`` is False; a degraded
    report is a ``monitor.performance_alert`` event unless ``alert`` is False. The metric
    naming rule is in ``parity.monitor.performance``.
    """
    since_ms = None if since is None else _since_epoch_ms(since, dt.datetime.now(dt.UTC))
    with session(workspace) as ws:
        version = ws.registry.resolve(model_reference)
        report = _check_version_performance(
            ws, version, since_ms, window, tolerance, min_labels, record
        )
        if alert and report.evaluated and not report.ok:
            report_alert(ws, PERFORMANCE_ALERT, performance_alert_data(version, report))
        return report


def performance_alert_data(version: ModelVersion, report: PerformanceReport) -> dict[str, Any]:
    """What a ``monitor.performance_alert`` event says: the version and what fell how far."""
    return {
        "model": version.name,
        "version": version.version,
        "ref": version.ref,
        "labels": report.labels,
        "degraded": list(report.degraded),
        "report": report.to_dict(),
    }


def _check_version_performance(
    ws: Workspace,
    version: ModelVersion,
    since_ms: int | None,
    window: str | None,
    tolerance: float,
    min_labels: int,
    record: bool,
) -> PerformanceReport:
    run = _run_or_none(ws, version.run_id)
    if run is None:
        raise UsageError(
            f"{version.ref} has no training run to compare with"
            + ("" if version.run_id else " (it was not registered from a tracked run)"),
            hint="register the model from a run that logged its metrics",
        )
    pairs = ws.monitoring.labelled_predictions(version.name, version.version, since_ms)
    report = check_performance(
        version.ref,
        run.id,
        run.metrics,
        pairs,
        window=window,
        tolerance=tolerance,
        min_labels=min_labels,
    )
    if record:
        ws.monitoring.record_performance(version.name, version.version, report.to_dict(), now_ms())
    return report


def _performance_check(
    workspace: Workspace, version: ModelVersion, since_ms: int | None, min_rows: int
) -> tuple[str, WatchAlert | None]:
    """``monitor watch``'s performance check: the labelled predictions in the tick's window."""
    try:
        report = _check_version_performance(
            workspace, version, since_ms, None, DEFAULT_TOLERANCE, MIN_LABELS, True
        )
    except UsageError as exc:  # no training run to compare with: nothing to judge, say why
        return f"not run: {exc.message}", None
    if not report.evaluated and report.reason:
        return f"{report.labels} labels, no verdict: {report.reason}", None
    if not report.evaluated:
        return f"{report.labels} labels, fewer than {report.min_labels}: no verdict", None
    if report.ok:
        return f"no degradation over {report.labels} labels", None
    summary = f"performance of {version.ref} degraded: {'; '.join(report.degraded)}"
    data = performance_alert_data(version, report)
    return summary, WatchAlert(PERFORMANCE_ALERT, summary, data=data)


def performance_history(
    model_reference: str, *, workspace: Workspace | None = None
) -> list[dict[str, Any]]:
    """The performance checks kept for a model version, oldest first.

    Each is the report as ``performance(...).to_dict()`` gave it, with ``time_ms``.

    >>> parity.api.monitor.performance_history("churn/3")[-1]["status"]   # doctest: +SKIP
    'ok'
    """
    with session(workspace) as ws:
        version = ws.registry.resolve(model_reference)
        return ws.monitoring.performance_history(version.name, version.version)


def _read_labels(
    path: Path, request_id_column: str, label_column: str, row_column: str | None
) -> list[dict[str, Any]]:
    """A CSV/Parquet table of labels as ``{request_id, label, row}`` items, checked."""
    from parity.monitor.profile import read_table  # lazy: pandas loads only to read a table

    if path.suffix.lower() == ".csv" and path.is_file():
        import pandas as pd  # lazy: ids are read as text, so "0012" or "1e5" stay as written

        try:
            frame = pd.read_csv(path, dtype={request_id_column: str})
        except (OSError, ValueError) as exc:
            raise UsageError(
                f"cannot read {path}: {exc}", hint="give a CSV or Parquet table"
            ) from exc
    elif not path.is_file():
        raise UsageError(f"no labels file at {path}", hint="give a CSV or Parquet table")
    else:
        frame = read_table(path)
    wanted = [request_id_column, label_column, *([row_column] if row_column else [])]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise UsageError(
            f"{path.name} has no column {missing[0]!r} (its columns: "
            + ", ".join(map(str, frame.columns))
            + ")",
            hint="name the columns with --request-id-column and --label-column",
        )
    ids = frame[request_id_column].tolist()
    values = frame[label_column].tolist()
    rows = frame[row_column].tolist() if row_column else [0] * len(ids)
    items = [
        {"request_id": _text(i), "label": v, "row": r}
        for i, v, r in zip(ids, values, rows, strict=True)
    ]
    checked: list[dict[str, Any]] = []
    for start in range(0, len(items), MAX_LABELS):
        try:
            checked.extend(read_feedback(items[start : start + MAX_LABELS]))
        except UsageError as exc:
            raise UsageError(f"{path.name}: {exc.message}", hint=exc.hint) from exc
    return checked


def _text(value: Any) -> Any:
    """A request id as written: Parquet may hold whole numbers."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _since_epoch_ms(since: str | dt.datetime, now: dt.datetime) -> int:
    """``30m``, ``24h``, ``7d``, an ISO time or a datetime → milliseconds since the epoch."""
    if isinstance(since, dt.datetime):
        moment = since
    elif match := _DURATION.match(since):
        seconds = int(match[1]) * _UNITS[match[2]]
        return int((now.timestamp() - seconds) * 1000)
    else:
        try:
            moment = dt.datetime.fromisoformat(since)
        except ValueError as exc:
            raise UsageError(
                f"cannot read --since {since!r}", hint="use 30m, 24h, 7d or an ISO time"
            ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def _profile_table(workspace: Workspace, path: Path, data_version: str | None = None) -> str:
    """Profile a CSV/Parquet table, store the profile and (for a data version) remember it."""
    return store_profile(workspace.records, workspace.monitoring, path, data_version, now_ms())


def _load_profile(workspace: Workspace, reference: str) -> Profile:
    """A profile from a data version id, a profile id prefix, or a table file (profiled now).

    An id that names a profile wins over a file of that name: a server, handed an id, never
    reads a file it names.
    """
    if is_hex_prefix(reference.lower()):
        profile_id = workspace.monitoring.profile_of(reference) or _stored_profile(
            workspace, reference
        )
        if profile_id is not None:
            return Profile.from_record(workspace.records.get(profile_id, kind=PROFILE_KIND))
    path = Path(reference)
    if path.is_file():
        return Profile.from_record(workspace.records.get(_profile_table(workspace, path)))
    profile_id = workspace.records.resolve(reference, kind=PROFILE_KIND)  # raises, saying why
    return Profile.from_record(workspace.records.get(profile_id, kind=PROFILE_KIND))


def _served_profile(
    workspace: Workspace,
    version: ModelVersion,
    columns: Sequence[str],
    window_ms: tuple[int, int],
    min_rows: int,
    newest: int | None = None,
) -> tuple[Profile, int]:
    """The profile of the inputs ``version`` was served in an earlier window (kept nowhere),
    of at most its ``newest`` rows, and how many rows were read."""
    from parity.monitor.profile import profile_rows  # lazy: the monitor extra loads pandas

    start, stop = window_ms
    logged = workspace.monitoring.logged_inputs(
        version.name, version.version, start, until_ms=stop, newest=_one_more(newest)
    )
    read = len(logged)
    logged = logged if newest is None else logged[-newest:] if newest else []
    rows = [row for row in logged if isinstance(row, list) and len(row) == len(columns)]
    if len(rows) < min_rows:
        raise UsageError(
            f"{len(rows)} rows of {version.ref}'s inputs were logged in the baseline window;"
            f" at least {min_rows} are needed",
            hint="widen the baseline window, or pick a stored profile",
        )
    return profile_rows(rows, columns), read


def _one_more(newest: int | None) -> int | None:
    """One row past a cap, read to tell whether there were more rows than it."""
    return None if newest is None else newest + 1


def _stored_profile(workspace: Workspace, prefix: str) -> str | None:
    """The stored profile whose id starts with ``prefix``; None when there is none."""
    try:
        return workspace.records.resolve(prefix, kind=PROFILE_KIND)
    except NotFoundError:
        return None


def _run_or_none(workspace: Workspace, run_id: str | None) -> RunView | None:
    """The run that made a version, or None when there is none or this store lacks it."""
    if run_id is None:
        return None
    try:
        return workspace.runs.find(run_id)
    except NotFoundError:
        return None


def _training_data_version(
    workspace: Workspace, version: ModelVersion, features: Sequence[str]
) -> str:
    """The profiled input data version of the run that made ``version``: its training data.

    Of several profiled inputs, the one whose columns cover the model's features wins.
    """
    run = _run_or_none(workspace, version.run_id)
    profiled = [
        (link.data_version, profile_id)
        for link in (run.inputs if run else ())
        if link.data_version and (profile_id := workspace.monitoring.profile_of(link.data_version))
    ]
    for data_version, profile_id in profiled:
        candidate = Profile.from_record(workspace.records.get(profile_id, kind=PROFILE_KIND))
        if all(candidate.column(name) is not None for name in features):
            return data_version
    if profiled:
        return profiled[0][0]
    raise UsageError(
        f"no profiled training data is linked to {version.ref}"
        + ("" if run else " (it was not registered from a tracked run)"),
        hint="pass --reference with the training table, its data version or a profile id",
    )


def _check_model_drift(
    workspace: Workspace,
    model_reference: str,
    reference: str | None,
    since_ms: int | None,
    min_rows: int,
) -> DriftReport:
    """Compare the inputs logged while serving ``model_reference`` with the training profile."""
    version = workspace.registry.resolve(model_reference)
    return _check_version_drift(workspace, version, reference, since_ms, min_rows)


def _check_version_drift(
    workspace: Workspace,
    version: ModelVersion,
    reference: str | None,
    since_ms: int | None,
    min_rows: int,
    until_ms: int | None = None,
) -> DriftReport:
    """Compare the inputs logged while serving ``version`` with the training profile."""
    return _drift_checker(workspace, version, reference, min_rows)(since_ms, until_ms)


def _baseline_ms(
    reference: str | None,
    baseline: tuple[str | dt.datetime, str | dt.datetime] | None,
    now: dt.datetime,
) -> tuple[int, int] | None:
    """An earlier serving window as milliseconds (from, until); refused beside a reference."""
    if baseline is None:
        return None
    if reference is not None:
        raise UsageError("give a reference profile or a baseline window, not both")
    start, stop = (_since_epoch_ms(moment, now) for moment in baseline)
    if start >= stop:
        raise UsageError(
            "the baseline window ends before it starts",
            hint="give its start first: 14d..7d is from two weeks ago to one week ago",
        )
    return start, stop


def _drift_checker(
    workspace: Workspace,
    version: ModelVersion,
    reference: str | None,
    min_rows: int,
    baseline_ms: tuple[int, int] | None = None,
    newest: int | None = None,
    read: Callable[[int], None] = lambda rows: None,
) -> Callable[[int | None, int | None], DriftReport]:
    """A check of the inputs ``version`` was served between two times against its reference
    profile (or the inputs of a ``baseline_ms`` window), read once for every window it is
    asked about. With ``newest``, each span's newest rows only; ``read`` is told how many rows
    each span had (up to one past the cap)."""
    record = read_model_record(workspace.records, version.model_id)
    if record.signature is None:
        raise UsageError(f"{version.ref} has no signature, so its inputs cannot be checked")
    columns = record.signature.input_names
    if baseline_ms is not None:
        training, rows_read = _served_profile(
            workspace, version, columns, baseline_ms, min_rows, newest
        )
        read(rows_read)
    else:
        if reference is None:
            reference = _training_data_version(workspace, version, columns)
        training = _load_profile(workspace, reference)

    def check(since_ms: int | None, until_ms: int | None) -> DriftReport:
        rows = workspace.monitoring.logged_inputs(
            version.name, version.version, since_ms, until_ms=until_ms, newest=_one_more(newest)
        )
        read(len(rows))
        if newest is not None:
            rows = rows[-newest:] if newest else []
        return check_drift(training, columns, rows, min_rows)

    return check
