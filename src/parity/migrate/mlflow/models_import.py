"""Bring MLflow's registered models into Parity's registry: versions, aliases, stages, files.

Each MLflow version ``NAME/N`` becomes Parity's ``NAME/N`` (the same number, adopted into the
registry and audited with the reason "imported from MLflow"), pointing at a model record made
from the version's files:

- a ``sklearn`` flavor saved as pickle or cloudpickle, whose every global passes Parity's
  restricted-pickle policy, becomes a Parity ``sklearn`` model loaded restricted to those
  globals; one saved with skops becomes a Parity skops model whose trusted types are the ones
  the policy allows. Those load with ``parity.models.load`` like any Parity model;
- anything else is kept as an opaque ``mlflow`` model (see registry.flavors.imported): every
  file, its signature, and a loader that says why it cannot be loaded.

Every file of the MLflow model folder is kept (MLmodel, input example, requirement files), plus
``mlflow_registry.json`` holding what Parity's registry has no place for: the version's tags,
stage, source, and the registered model's description and tags.

The version's run is the Parity run the run importer made of the MLflow run (``run_ids``). Its
declared environment (requirements.txt, conda.yaml, python_env.yaml next to MLmodel) is recorded
as a *declared* environment, marked as never fingerprinted (core.model.DeclaredEnvironment).

Aliases are imported as they are; stages become aliases: ``Production`` -> ``production``,
``Staging`` -> ``staging`` (``Archived`` names many versions at once, so it is not an alias).

Idempotent: a version already there with the same model is left alone, an alias already
pointing at its version is not moved again, so a second import adds nothing.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.core.errors import NotFoundError, StorageError, UsageError
from parity.core.model import (
    ArtifactFile,
    ColumnSpec,
    DeclaredEnvironment,
    ModelRecord,
    ModelVersion,
    Signature,
)
from parity.core.paths import is_contained
from parity.migrate.mlflow.source import (
    MlflowModelFiles,
    MlflowModelVersion,
    MlflowRegisteredModel,
    MlflowSource,
)
from parity.registry.flavors import pickle_policy, pickled
from parity.registry.flavors.sklearn import RESTRICTED, SKOPS
from parity.registry.repository import Actor
from parity.registry.versions import Registry
from parity.store.records import RecordStore

REASON = "imported from MLflow"
MLMODEL = "MLmodel"
REGISTRY_FILE = "mlflow_registry.json"
DECLARING_FILES = ("requirements.txt", "conda.yaml", "python_env.yaml")
# MLflow's client writes this beside a model whenever it downloads one from the registry (into a
# local store's own folder, too): a cache of the name and version, not part of the model. Kept,
# it would make the model's bytes change with every ``mlflow.pyfunc.load_model``.
DOWNLOAD_MARKER = "registered_model_meta"
# Stages that name one version at a time, and the alias each becomes.
STAGE_ALIASES = {"production": "production", "staging": "staging"}
MAX_MLMODEL_BYTES = 4 * 1024 * 1024
MAX_MODEL_FILES = 100_000
CHUNK = 1024 * 1024
# MLflow's column types (mlflow.types.DataType) as NumPy dtypes.
_DTYPES = {
    "double": "float64",
    "float": "float32",
    "long": "int64",
    "integer": "int32",
    "boolean": "bool",
    "string": "object",
    "binary": "object",
    "datetime": "datetime64[ns]",
}


@dataclass(frozen=True)
class ModelImportCounts:
    """What one call added (``*_added``) and what it found already imported."""

    models: int = 0
    versions_added: int = 0
    versions_present: int = 0
    aliases_added: int = 0
    loadable: int = 0  # versions Parity loads with its own flavor (sklearn)
    opaque: int = 0  # versions kept as files only
    declared_environments: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "models": self.models,
            "versions_added": self.versions_added,
            "versions_present": self.versions_present,
            "aliases_added": self.aliases_added,
            "loadable": self.loadable,
            "opaque": self.opaque,
            "declared_environments": self.declared_environments,
        }


def import_models(
    source: MlflowSource,
    *,
    records: RecordStore,
    registry: Registry,
    actor: Actor,
    run_ids: Mapping[str, str],
    names: Sequence[str] | None = None,
    now_ms: Callable[[], int] | None = None,
    on_version: Callable[[MlflowModelVersion], None] | None = None,
) -> ModelImportCounts:
    """Import the registered models of ``source`` (only ``names`` when given).

    ``run_ids`` maps MLflow run ids to the Parity runs the run importer made of them; a version
    whose run is not in it is imported without a run. ``on_version`` is called once per version
    (a progress bar's advance). Raises UsageError when the source cannot hand over model files.
    """
    if not isinstance(source, MlflowModelFiles):
        raise UsageError(
            f"{source.description}: this reader cannot read model version files",
            hint="import the registry from an MLflow file store or server",
        )
    counts = _Counts()
    wanted = set(names) if names is not None else None
    for model in source.registered_models():
        if wanted is not None and model.name not in wanted:
            continue
        counts.models += 1
        versions = source.model_versions(model.name)
        for version in versions:
            _import_version(
                source, model, version, records, registry, actor, run_ids, counts, now_ms
            )
            if on_version is not None:
                on_version(version)
        numbers = {v.version for v in versions}
        targets = dict(_stage_aliases(versions))
        targets.update({a: v for a, v in model.aliases.items() if v in numbers})
        for alias, number in sorted(targets.items()):
            before = _alias_target(registry, model.name, alias)
            if before != int(number):
                registry.set_alias(model.name, int(number), alias, actor, reason=REASON)
                counts.aliases_added += 1
    return counts.frozen()


@dataclass
class _Counts:
    models: int = 0
    versions_added: int = 0
    versions_present: int = 0
    aliases_added: int = 0
    loadable: int = 0
    opaque: int = 0
    declared_environments: int = 0

    def frozen(self) -> ModelImportCounts:
        return ModelImportCounts(**self.__dict__)


def _stage_aliases(versions: Sequence[MlflowModelVersion]) -> list[tuple[str, str]]:
    """(alias, version) for stages that name one version; the newest wins if several do."""
    found: dict[str, str] = {}
    for version in sorted(versions, key=lambda v: int(v.version) if v.version.isdigit() else 0):
        alias = STAGE_ALIASES.get((version.stage or "").lower())
        if alias is not None:
            found[alias] = version.version
    return sorted(found.items())


def _alias_target(registry: Registry, name: str, alias: str) -> int | None:
    try:
        return registry.by_alias(name, alias).version
    except NotFoundError:
        return None


def _import_version(
    source: MlflowModelFiles,
    model: MlflowRegisteredModel,
    version: MlflowModelVersion,
    records: RecordStore,
    registry: Registry,
    actor: Actor,
    run_ids: Mapping[str, str],
    counts: _Counts,
    now_ms: Callable[[], int] | None,
) -> None:
    if not version.version.isdigit():
        raise StorageError(f"MLflow version {version.version!r} of {model.name!r} is not a number")
    created_ms = version.created_ms or (now_ms() if now_ms else 0)
    with tempfile.TemporaryDirectory(prefix="parity-mlflow-model-") as tmp:
        directory = Path(tmp)
        _download(source, version, directory)
        (directory / REGISTRY_FILE).write_text(
            json.dumps(_registry_facts(model, version), sort_keys=True, indent=1)
        )
        record = _model_record(directory, records)
    model_id = records.put(record.to_record(), created_ms, label=record.flavor)
    counts.loadable += record.flavor != "mlflow"
    counts.opaque += record.flavor == "mlflow"
    counts.declared_environments += record.declared_environment is not None
    number = int(version.version)
    try:
        registry.get(model.name, number)
        present = True
    except NotFoundError:
        present = False
    registry.adopt(
        ModelVersion(
            name=model.name,
            version=number,
            model_id=model_id,
            run_id=run_ids.get(version.run_id) if version.run_id else None,
            created_ms=created_ms,
            created_by=version.user or actor.name,
            locked=False,
            description=version.description,
        ),
        actor,
        reason=REASON,
    )
    if present:
        counts.versions_present += 1
    else:
        counts.versions_added += 1


def _registry_facts(model: MlflowRegisteredModel, version: MlflowModelVersion) -> dict[str, Any]:
    return {
        "name": version.name,
        "version": version.version,
        "tags": dict(version.tags),
        "stage": version.stage,
        "status": version.status,
        "source": version.source,
        "mlflow_run_id": version.run_id,
        "registered_model": {"description": model.description, "tags": dict(model.tags)},
    }


def _download(source: MlflowModelFiles, version: MlflowModelVersion, directory: Path) -> None:
    listed = 0
    for artifact in source.model_files(version):
        listed += 1
        if listed > MAX_MODEL_FILES:
            raise StorageError(f"{version.name}/{version.version} has over {MAX_MODEL_FILES} files")
        if artifact.path == DOWNLOAD_MARKER:
            continue
        if not is_contained(artifact.path) or artifact.path == REGISTRY_FILE:
            raise UsageError(
                f"model file path {artifact.path!r} of {version.name}/{version.version} "
                "is not a plain relative path",
                hint="the MLflow store may have been tampered with",
            )
        target = directory / artifact.path
        target.parent.mkdir(parents=True, exist_ok=True)
        with source.open_model_file(version, artifact.path) as stream, open(target, "wb") as out:
            shutil.copyfileobj(stream, out, CHUNK)
    if not (directory / MLMODEL).is_file():
        raise NotFoundError(
            f"{version.name} version {version.version} has no MLmodel file among its "
            f"{listed} files",
            hint="is its source a model logged with mlflow.<flavor>.log_model?",
        )


def _model_record(directory: Path, records: RecordStore) -> ModelRecord:
    mlmodel = _read_yaml(directory / MLMODEL)
    found = mlmodel.get("flavors")
    flavors: dict[str, Any] = found if isinstance(found, dict) else {}
    flavor, loader = _loader(directory, flavors)
    files = tuple(
        ArtifactFile(
            path=path.relative_to(directory).as_posix(),
            digest=records.objects.put_file(path),
            size=path.stat().st_size,
        )
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    )
    declared = _declared_environment(directory)
    return ModelRecord(
        flavor=flavor,
        loader=loader,
        files=files,
        signature=_signature(mlmodel.get("signature")),
        environment_id=None,
        requirements=dict(declared.requirements) if declared else {},
        declared_environment=declared,
    )


def _loader(directory: Path, flavors: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Parity's flavor and loader settings for the model, or the opaque flavor and why."""
    names = sorted(str(n) for n in flavors)
    sklearn = flavors.get("sklearn")
    if not isinstance(sklearn, dict):
        reason = "Parity loads only its sklearn flavor"
        return "mlflow", {"flavors": names, "reason": reason}
    file = str(sklearn.get("pickled_model") or "")
    kind = str(sklearn.get("serialization_format") or "cloudpickle")
    if not is_contained(file) or not (directory / file).is_file():
        return "mlflow", {"flavors": names, "reason": f"its model file {file!r} is missing"}
    if kind in ("pickle", "cloudpickle"):
        return _restricted_pickle(directory, file, names)
    if kind == "skops":
        return _skops(directory, file, names)
    return "mlflow", {"flavors": names, "reason": f"unknown serialization format {kind!r}"}


def _restricted_pickle(directory: Path, file: str, names: list[str]) -> tuple[str, dict[str, Any]]:

    try:
        found = pickled.globals_in_pickle(directory / file)
    except Exception as exc:  # a stream the inert walk cannot follow (any error it raises)
        reason = f"its pickle cannot be read without running it ({type(exc).__name__})"
        return "mlflow", {"flavors": names, "reason": reason}
    refused = sorted(g for g in found if pickle_policy.resolve(*g.split(":", 1)) is None)
    if refused:
        shown = ", ".join(g.replace(":", ".") for g in refused[:3])
        reason = f"its pickle refers to {shown}, which a restricted pickle may not call"
        return "mlflow", {"flavors": names, "reason": reason}
    return "sklearn", {"format": RESTRICTED, "file": file, "globals": sorted(found)}


def _skops(directory: Path, file: str, names: list[str]) -> tuple[str, dict[str, Any]]:

    try:
        import skops.io as sio  # lazy: only a model saved by skops needs it
    except ImportError:
        reason = "it was saved with skops, which is not installed (pip install skops)"
        return "mlflow", {"flavors": names, "reason": reason}
    try:
        untrusted = [str(t) for t in sio.get_untrusted_types(file=directory / file)]
    except Exception as exc:  # skops raises what its zip and schema readers raise
        reason = f"skops cannot read its file ({type(exc).__name__})"
        return "mlflow", {"flavors": names, "reason": reason}
    refused = [
        t for t in untrusted if "." not in t or pickle_policy.resolve(*t.rsplit(".", 1)) is None
    ]
    if refused:
        reason = f"it names {', '.join(refused[:3])}, which a restricted load may not build"
        return "mlflow", {"flavors": names, "reason": reason}
    return "sklearn", {"format": SKOPS, "file": file, "trusted_types": sorted(untrusted)}


def _signature(document: object) -> Signature | None:
    if not isinstance(document, dict):
        return None

    def columns(text: object, prefix: str) -> tuple[ColumnSpec, ...]:
        if not isinstance(text, str):
            return ()
        try:
            specs = json.loads(text)
        except ValueError:
            return ()
        if not isinstance(specs, list):
            return ()
        return tuple(
            ColumnSpec(
                name=str(spec.get("name") or f"{prefix}{index}"),
                dtype=_DTYPES.get(str(spec.get("type")), "object"),
                nullable=spec.get("required") is False,
            )
            for index, spec in enumerate(specs)
            if isinstance(spec, dict)
        )

    inputs = columns(document.get("inputs"), "input_")
    return (
        Signature(inputs=inputs, outputs=columns(document.get("outputs"), "output_"))
        if inputs
        else None
    )


def _declared_environment(directory: Path) -> DeclaredEnvironment | None:
    present = tuple(name for name in DECLARING_FILES if (directory / name).is_file())
    if not present:
        return None
    python = None
    if "python_env.yaml" in present:
        python_env = _read_yaml(directory / "python_env.yaml")
        python = str(python_env["python"]) if python_env.get("python") else None
    pins: dict[str, str] = {}
    if "requirements.txt" in present:
        text = _bounded(directory / "requirements.txt").decode("utf-8", "replace")
        pins = _exact_pins(text.splitlines())
    elif "conda.yaml" in present:
        conda = _read_yaml(directory / "conda.yaml")
        for entry in conda.get("dependencies") or ():
            if isinstance(entry, dict):
                pins.update(_exact_pins(str(p) for p in entry.get("pip") or ()))
    return DeclaredEnvironment(origin="mlflow", files=present, python=python, requirements=pins)


def _exact_pins(lines: Any) -> dict[str, str]:
    from packaging.utils import canonicalize_name  # lazy: only an import reads requirements

    pins: dict[str, str] = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        name, separator, version = line.partition("==")
        if separator and name and version and not line.startswith("-"):
            name = name.split("[", 1)[0].strip()
            if ";" not in version and "," not in version:
                pins[str(canonicalize_name(name))] = version.strip()
    return pins


def _bounded(path: Path) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(MAX_MLMODEL_BYTES + 1)
    if len(data) > MAX_MLMODEL_BYTES:
        raise StorageError(
            f"{path.name} is over {MAX_MLMODEL_BYTES} bytes", hint="not an MLflow model"
        )
    return data


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml  # lazy: only an import reads MLflow's YAML

    try:
        document = yaml.safe_load(_bounded(path))
    except yaml.YAMLError as exc:
        raise StorageError(f"cannot read {path.name} of an MLflow model: {exc}") from exc
    return document if isinstance(document, dict) else {}
