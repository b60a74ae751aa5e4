"""Monitoring: profile tables, and check a served model's inputs for drift from its training data.

>>> parity.api.monitor.drift("churn@production", since="24h").drifted   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

from parity.api._session import session
from parity.core.errors import NotFoundError, UsageError
from parity.core.ids import is_hex_prefix
from parity.core.model import ModelVersion
from parity.core.profile import PROFILE_KIND, Profile
from parity.core.run import RunView
from parity.monitor.drift import MIN_ROWS, DriftReport, check_drift
from parity.monitor.reference import store_profile
from parity.registry.loading import read_model_record
from parity.workspace import Workspace, now_ms

__all__ = ["drift", "profile", "profiles"]

_DURATION = re.compile(r"^(\d+)([smhd])$")
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
    workspace: Workspace | None = None,
) -> DriftReport:
    """Compare the inputs logged while serving ``model_reference`` with its training profile.

    >>> report = parity.api.monitor.drift("churn@production", since="7d")   # doctest: +SKIP
    >>> report.ok, report.drifted                                           # doctest: +SKIP

    ``reference`` is a training table, its data version id or a profile id (default: the
    profiled input of the run that made the model). ``since`` is ``30m``, ``24h``, ``7d``, an
    ISO time or a datetime. With fewer than ``min_rows`` rows the report gives no verdict.
    """
    since_ms = None if since is None else _since_epoch_ms(since, dt.datetime.now(dt.UTC))
    with session(workspace) as ws:
        return _check_model_drift(ws, model_reference, reference, since_ms, min_rows)


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
    record = read_model_record(workspace.records, version.model_id)
    if record.signature is None:
        raise UsageError(f"{version.ref} has no signature, so its inputs cannot be checked")
    if reference is None:
        reference = _training_data_version(workspace, version, record.signature.input_names)
    training = _load_profile(workspace, reference)
    rows = workspace.monitoring.logged_inputs(version.name, version.version, since_ms)
    return check_drift(training, record.signature.input_names, rows, min_rows)
