"""What several API modules need of models: resolve a reference, save, verify an environment.

Not public: ``parity.api.models`` is the door; ``parity.api.serving`` gates on
``verify_model_environment``. Saving a model (and what it imports) is ``_model_saving``'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.core.env_rules import Difference, Risk
from parity.core.errors import NotFoundError, UsageError
from parity.core.ids import is_hex_prefix
from parity.core.model import DEFAULT_MODEL_PATH, MODEL_KIND, ModelRecord, ModelVersion
from parity.core.refs import RefKind, parse_reference
from parity.core.run import short_run_id
from parity.env.capture import capture
from parity.env.kept_distributions import capture_here
from parity.env.records import load_environment
from parity.env.verification import VerifyResult, verify_environment
from parity.registry.loading import FileProblem, check_model_files, read_model_record
from parity.workspace import CACHE_DIR, Workspace

if TYPE_CHECKING:
    from parity.core.run import RunView


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
    return workspace.registry_reads.resolve(reference)


def named_version(workspace: Workspace, model: str, version: int | None) -> tuple[str, int]:
    """``(name, version)`` from a name and a version number, or from one reference to a version:
    ``NAME/VERSION``, or ``NAME@ALIAS`` (the version the alias points at now).

    A bare name without a number is refused: a change aimed at "the latest" could land on a
    version registered a moment ago.
    """
    if version is not None:
        if "@" in model or "/" in model:
            raise UsageError(
                f"{model!r} already names a version: give it alone, or NAME VERSION",
                hint=f"e.g. {_model_name(model)} {version}",
            )
        return model, version
    if "@" not in model and "/" not in model:
        raise UsageError(
            f"{model!r} names a model, not one of its versions",
            hint=f"give {model}/VERSION, {model}@ALIAS, or {model} VERSION",
        )
    parsed = parse_reference(model)
    if parsed.kind is RefKind.MODEL_VERSION and parsed.name and parsed.version:
        return parsed.name, parsed.version
    if parsed.kind is RefKind.MODEL_ALIAS:
        found = resolve_model(workspace, model)
        return found.name, found.version
    raise UsageError(
        f"{model!r} does not name a model version", hint="use NAME/VERSION or NAME@ALIAS"
    )


def _model_name(reference: str) -> str:
    """The model's name in ``NAME``, ``NAME/VERSION`` or ``NAME@ALIAS``."""
    return reference.split("@")[0].split("/")[0]


def named_alias(model: str, alias: str | None) -> tuple[str, str]:
    """``(name, alias)`` from a name and an alias, or from one ``NAME@ALIAS``."""
    if alias is not None:
        if "@" in model or "/" in model:
            raise UsageError(
                f"{model!r} already names a version: give NAME ALIAS or NAME@ALIAS",
                hint=f"e.g. {_model_name(model)} {alias}",
            )
        return model, alias
    parsed = parse_reference(model) if "@" in model else None
    if parsed is None or parsed.kind is not RefKind.MODEL_ALIAS:
        raise UsageError(f"{model!r} names no alias", hint="give NAME@ALIAS, or NAME ALIAS")
    return parsed.name or "", parsed.alias or ""


def model_record(workspace: Workspace, reference: str) -> tuple[ModelVersion, ModelRecord]:
    """The registered version ``reference`` names and its model record."""
    version = resolve_model(workspace, reference)
    return version, read_model_record(workspace.records, version.model_id)


def model_in_run(workspace: Workspace, run_reference: str, path: str) -> tuple[str, str]:
    """``(run id, model id)`` of the model a run logged at ``path``."""
    return _model_artifact(workspace.runs.find(run_reference), path)


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
            try:
                run = workspace.runs.find(source)
            except NotFoundError as exc:
                raise NotFoundError(
                    f"no run or logged model has an id starting with {source.lower()}",
                    hint="list runs with 'parity runs list'",
                ) from exc
            run_id, model_id = _model_artifact(run, DEFAULT_MODEL_PATH)
        else:
            # The model's lineage goes through the run that logged it, when one did (the
            # oldest, should several runs have logged these very bytes).
            logged_by = workspace.runs.runs_that_logged(model_id, MODEL_KIND)
            run_id = logged_by[0] if logged_by else None
    read_model_record(workspace.records, model_id)  # a version must point at a model it has
    return workspace.registry.register(
        name, model_id, workspace.actor(), run_id=run_id, description=description
    )


def verify_model_environment(
    workspace: Workspace,
    record: ModelRecord,
    python: str | Path | None = None,
    threshold: Risk = Risk.HIGH,
) -> VerifyResult | None:
    """Compare this (or ``python``'s) environment with the model's; None if it has none.

    Only the distributions the model needs (its requirements) count; others drop to info.
    This interpreter is captured with the distributions unchanged since its last check kept
    in the workspace (``env.kept_distributions``): the same environment, read in a fraction.
    """
    if record.environment_id is None:
        return None
    expected = load_environment(workspace.records, record.environment_id)
    current = (
        capture(python) if python is not None else capture_here(workspace.parity_dir / CACHE_DIR)
    )
    return verify_environment(expected, current, threshold, imported=record.requirements)


def describe(differences: Iterable[Difference]) -> str:
    return "; ".join(
        f"{d.subject} {d.expected or '-'} -> {d.actual or '-'} ({d.risk})" for d in differences
    )


def describe_blocking(result: VerifyResult) -> str:
    return describe(result.blocking)


@dataclass(frozen=True)
class ModelVerification:
    """Whether a model's files are intact and an environment is safe for it.

    Each part has its verdict (``files_ok``, ``result.ok``); ``ok`` needs both."""

    model: str  # how messages name the model: "churn/3", or "RUN:PATH" for a logged model
    result: VerifyResult
    # Files that do not hold what the model record says (missing, corrupt, larger).
    files: tuple[FileProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.result.ok and not self.files

    @property
    def files_ok(self) -> bool:
        """Every file holds what the model record says (``files`` lists those that do not)."""
        return not self.files

    @property
    def blocking(self) -> tuple[Difference, ...]:
        return self.result.blocking

    @property
    def summary(self) -> str:
        """The blocking differences in one line, as error messages quote them."""
        return describe_blocking(self.result)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            **self.result.to_dict(),
            "ok": self.ok,
            "environment_ok": self.result.ok,
            "files_ok": self.files_ok,
            "file_problems": [f.to_dict() for f in self.files],
        }


def verify_model(
    workspace: Workspace,
    reference: str,
    python: str | Path | None = None,
    threshold: Risk = Risk.HIGH,
) -> ModelVerification:
    """Re-hash the files of the model ``reference`` names, and verify this (or ``python``'s)
    environment for it."""
    source = resolve_source(workspace, reference)
    files = tuple(check_model_files(workspace.records, source.record))
    result = verify_model_environment(workspace, source.record, python, threshold)
    if result is None:
        raise NotFoundError(
            f"{source.label} {source.record.environment_gap()}: nothing to verify against"
        )
    return ModelVerification(source.label, result, files)
