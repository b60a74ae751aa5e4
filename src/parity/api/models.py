"""The model API: save, resolve, verify and load models; ``parity.load_model`` lives here."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.core.env_rules import Difference, Risk
from parity.core.errors import EnvironmentMismatch, NotFoundError, UsageError
from parity.core.ids import is_hex_prefix
from parity.core.model import MODEL_KIND, ModelRecord, ModelVersion
from parity.core.refs import RefKind, parse_reference
from parity.core.run import short_run_id
from parity.env.capture import capture
from parity.env.records import load_environment, store_environment
from parity.env.verification import VerifyResult, verify_environment
from parity.registry.loading import load_model_record, read_model_record
from parity.registry.saving import save_model as save_model_files
from parity.workspace import Workspace, now_ms, open_workspace

if TYPE_CHECKING:
    from parity.api.tracking import Run
    from parity.core.run import RunView

DEFAULT_MODEL_PATH = "model"


class EnvironmentMismatchWarning(UserWarning):
    """The environment differs from the model's; shown when verification is skipped or mild."""


@dataclass(frozen=True)
class ModelSource:
    """A model as the user named it: a registered version, or a model logged to a run."""

    model_id: str
    record: ModelRecord
    version: ModelVersion | None  # None for ``RUN:PATH``
    run_id: str | None  # the run that logged it, when known
    label: str  # "bc/3" or "RUN:model": how messages name it


def resolve_model(workspace: Workspace, reference: str) -> ModelVersion:
    """The model version named ``NAME@ALIAS``, ``NAME/VERSION`` or ``NAME`` (latest)."""
    return workspace.registry.resolve(reference)


def model_record(workspace: Workspace, reference: str) -> tuple[ModelVersion, ModelRecord]:
    version = resolve_model(workspace, reference)
    return version, read_model_record(workspace.records, version.model_id)


def model_in_run(workspace: Workspace, run_reference: str, path: str) -> tuple[str, str]:
    """``(run id, model id)`` of the model a run logged at ``path``."""
    from parity.api.tracking import get_run

    return _model_artifact(get_run(workspace, run_reference), path)


def _model_artifact(run: RunView, path: str) -> tuple[str, str]:
    for artifact in run.artifacts:
        if artifact.path == path:
            if artifact.kind != MODEL_KIND:
                raise UsageError(
                    f"{path!r} of run {short_run_id(run.id)} is a {artifact.kind}, not a model",
                    hint="name a path the run logged with log_model",
                )
            return run.id, artifact.digest
    models = [a.path for a in run.artifacts if a.kind == MODEL_KIND]
    raise NotFoundError(
        f"run {short_run_id(run.id)} logged no model at {path!r}",
        hint=f"its models: {', '.join(models)}" if models else "log one with run.log_model(...)",
    )


def resolve_source(workspace: Workspace, reference: str) -> ModelSource:
    """``NAME@ALIAS``, ``NAME/VERSION``, ``NAME`` (latest) or ``RUN:PATH``, as a ModelSource."""
    parsed = parse_reference(reference) if ":" in reference else None
    if parsed is not None and parsed.kind is RefKind.RUN_PATH:
        run_id, model_id = model_in_run(workspace, parsed.id_prefix or "", parsed.path or "")
        record = read_model_record(workspace.records, model_id)
        return ModelSource(model_id, record, None, run_id, f"{short_run_id(run_id)}:{parsed.path}")
    version = resolve_model(workspace, reference)
    record = read_model_record(workspace.records, version.model_id)
    return ModelSource(version.model_id, record, version, version.run_id, version.ref)


def register_model(
    workspace: Workspace, source: str, name: str, description: str | None = None
) -> ModelVersion:
    """Register the next version of ``name`` from ``RUN[:PATH]`` or a logged model's id prefix.

    A bare hex prefix names a model id if one matches, else a run (its model at ``model``).
    """
    run_id: str | None
    if ":" in source:
        parsed = parse_reference(source)
        if parsed.kind is not RefKind.RUN_PATH:
            raise UsageError(f"cannot read {source!r} as RUN:PATH", hint="e.g. 0190ab12:model")
        run_id, model_id = model_in_run(workspace, parsed.id_prefix or "", parsed.path or "")
    elif not is_hex_prefix(source.lower()):
        raise UsageError(
            f"{source!r} names no run or logged model",
            hint="give a run id prefix (RUN or RUN:PATH, PATH defaults to model) or a model id",
        )
    else:
        try:
            model_id = workspace.records.resolve(source, kind=MODEL_KIND)
        except NotFoundError:
            from parity.api.tracking import get_run

            try:
                run = get_run(workspace, source)
            except NotFoundError as exc:
                raise NotFoundError(
                    f"no run or logged model has an id starting with {source.lower()}",
                    hint="list runs with 'parity runs list'",
                ) from exc
            run_id, model_id = _model_artifact(run, DEFAULT_MODEL_PATH)
        else:
            from parity.api.tracking import run_store

            # The model's lineage goes through the run that logged it, when one did (the
            # oldest, should several runs have logged these very bytes).
            logged_by = run_store(workspace).runs_that_logged(model_id, MODEL_KIND)
            run_id = logged_by[0] if logged_by else None
    read_model_record(workspace.records, model_id)  # a version must point at a model it has
    return workspace.registry.register(
        name, model_id, workspace.actor(), run_id=run_id, description=description
    )


def save_model(
    workspace: Workspace,
    model: object,
    *,
    input_example: Any = None,
    flavor: str | None = None,
    environment_id: str | None = None,
    allow_unrestricted_pickle: bool = False,
) -> tuple[str, ModelRecord]:
    """Store a model with its signature, golden rows and the environment it was made in.

    Without ``environment_id`` the current environment is captured and stored.
    """
    if environment_id is None:
        environment_id = store_environment(workspace.records, capture(), now_ms())
    return save_model_files(
        model,
        workspace.records,
        now_ms(),
        input_example=input_example,
        flavor=flavor,
        environment_id=environment_id,
        allow_unrestricted_pickle=allow_unrestricted_pickle,
    )


def verify_model_environment(
    workspace: Workspace,
    record: ModelRecord,
    python: str | Path | None = None,
    threshold: Risk = Risk.HIGH,
) -> VerifyResult | None:
    """Compare this (or ``python``'s) environment with the model's; None if it has none.

    Only the distributions the model needs (its requirements) count; others drop to info.
    """
    if record.environment_id is None:
        return None
    expected = load_environment(workspace.records, record.environment_id)
    return verify_environment(expected, capture(python), threshold, imported=record.requirements)


def describe(differences: Iterable[Difference]) -> str:
    return "; ".join(
        f"{d.subject} {d.expected or '-'} -> {d.actual or '-'} ({d.risk})" for d in differences
    )


def describe_blocking(result: VerifyResult) -> str:
    return describe(result.blocking)


def log_model_to_run(
    run: Run,
    model: object,
    name: str = DEFAULT_MODEL_PATH,
    input_example: Any = None,
    flavor: str | None = None,
    *,
    registered_model_name: str | None = None,
    allow_unrestricted_pickle: bool = False,
) -> str:
    """Save ``model`` as an artifact of ``run`` at ``name`` and return its model id.

    The model record carries the run's environment (so verification compares against the
    environment that trained it) and the distributions the model imports. With
    ``registered_model_name`` the model is also registered as that model's next version.
    """
    workspace = run.workspace
    model_id, record = save_model(
        workspace,
        model,
        input_example=input_example,
        flavor=flavor,
        environment_id=run.environment_id,
        allow_unrestricted_pickle=allow_unrestricted_pickle,
    )
    size = sum(f.size for f in record.files)
    run.add_artifact_ref(name, model_id, kind=MODEL_KIND, size=size)
    if registered_model_name is not None:
        workspace.registry.register(
            registered_model_name, model_id, workspace.actor(), run_id=run.id
        )
    return model_id


def load_model(
    reference: str,
    verify_env: bool = True,
    workspace: Workspace | None = None,
    *,
    allow_unrestricted_pickle: bool = False,
) -> Any:
    """Load a model, verified byte for byte and checked against this environment.

    >>> model = parity.load_model("churn@production")   # doctest: +SKIP
    >>> model.predict(rows)                              # doctest: +SKIP

    ``reference`` is ``NAME@ALIAS``, ``NAME/VERSION``, ``NAME`` (the latest version) or
    ``RUN:PATH`` (a model logged to a run). Every file is checked against its digest before
    anything is deserialised (``CorruptObject`` otherwise). Then this environment is compared
    with the one the model was made in: a high-risk difference in a package the model needs
    raises ``EnvironmentMismatch`` listing it; with ``verify_env=False`` the model loads with an
    ``EnvironmentMismatchWarning`` instead. Medium and low differences load with that warning.
    A model its flavor could only keep as an unrestricted pickle (saved with
    ``allow_unrestricted_pickle=True``) loads only with that option too.
    """
    owned = workspace is None
    ws = workspace or open_workspace()
    try:
        source = resolve_source(ws, reference)
        label = source.label

        def check(record: ModelRecord) -> None:
            result = verify_model_environment(ws, record)
            if result is None:
                warnings.warn(
                    f"{label} has no recorded environment: not verified",
                    EnvironmentMismatchWarning,
                    stacklevel=4,
                )
            elif not result.ok and verify_env:
                raise EnvironmentMismatch(
                    f"this environment is not safe for {label}: {describe_blocking(result)}",
                    result.blocking,
                    hint="restore its environment (parity env restore) or pass verify_env=False",
                )
            elif not result.ok:
                warnings.warn(
                    f"loading {label} in an environment that differs at high risk: "
                    f"{describe_blocking(result)}",
                    EnvironmentMismatchWarning,
                    stacklevel=4,
                )
            elif milder := describe(result.diff.at_or_above(Risk.LOW)):
                # Below the threshold: safe to load, but worth knowing (informational: silent).
                warnings.warn(
                    f"{label} loads in an environment that differs at lower risk: {milder}",
                    EnvironmentMismatchWarning,
                    stacklevel=4,
                )

        return load_model_record(
            ws.records,
            source.model_id,
            check_environment=check,
            allow_unrestricted_pickle=allow_unrestricted_pickle,
        )
    finally:
        if owned:
            ws.close()
