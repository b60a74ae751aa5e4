"""Drift checks of a served model against the profile of the data it was trained on."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from parity.core.errors import UsageError
from parity.core.model import ModelVersion
from parity.core.profile import PROFILE_KIND, Profile
from parity.monitor.drift import MIN_ROWS, DriftReport, check_drift
from parity.monitor.logged import logged_inputs, profile_of
from parity.monitor.reference import store_profile
from parity.registry.loading import read_model_record
from parity.workspace import Workspace, now_ms


def profile_table(workspace: Workspace, path: Path, data_version: str | None = None) -> str:
    """Profile a CSV/Parquet table, store the profile and (for a data version) remember it."""
    return store_profile(workspace.records, workspace.meta, path, data_version, now_ms())


def load_profile(workspace: Workspace, reference: str) -> Profile:
    """A profile from a table file (profiled now), a data version id, or a profile id prefix."""
    path = Path(reference)
    if path.is_file():
        return Profile.from_record(workspace.records.get(profile_table(workspace, path)))
    known = profile_of(workspace.meta, reference)
    profile_id = known or workspace.records.resolve(reference, kind=PROFILE_KIND)
    return Profile.from_record(workspace.records.get(profile_id, kind=PROFILE_KIND))


def training_data_version(
    workspace: Workspace, version: ModelVersion, features: Sequence[str]
) -> str:
    """The profiled input data version of the run that made ``version``: its training data.

    Of several profiled inputs, the one whose columns cover the model's features wins.
    """
    from parity.api.lineage import find_run

    run = find_run(workspace, version.run_id) if version.run_id else None
    profiled = [
        (link.data_version, profile_id)
        for link in (run.inputs if run else ())
        if link.data_version and (profile_id := profile_of(workspace.meta, link.data_version))
    ]
    for data_version, profile_id in profiled:
        profile = Profile.from_record(workspace.records.get(profile_id, kind=PROFILE_KIND))
        if all(profile.column(name) is not None for name in features):
            return data_version
    if profiled:
        return profiled[0][0]
    raise UsageError(
        f"no profiled training data is linked to {version.ref}"
        + ("" if run else " (it was not registered from a tracked run)"),
        hint="pass --reference with the training table, its data version or a profile id",
    )


def drift(
    workspace: Workspace,
    model_reference: str,
    reference: str | None,
    since_ms: int | None = None,
    min_rows: int = MIN_ROWS,
) -> DriftReport:
    """Compare the inputs logged while serving ``model_reference`` with the training profile."""
    version = workspace.registry.resolve(model_reference)
    record = read_model_record(workspace.records, version.model_id)
    if record.signature is None:
        raise UsageError(f"{version.ref} has no signature, so its inputs cannot be checked")
    if reference is None:
        reference = training_data_version(workspace, version, record.signature.input_names)
    profile = load_profile(workspace, reference)
    rows = logged_inputs(workspace.meta, version.name, version.version, since_ms)
    return check_drift(profile, record.signature.input_names, rows, min_rows)
