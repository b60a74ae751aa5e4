"""Compose a deployment export from a workspace. Not public: ``parity.api.deploy`` is the door."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.api._lineage import training_data_versions
from parity.api._models import model_record
from parity.core.deployment import TARGETS, DeployExport, ImageReference
from parity.core.errors import UsageError
from parity.core.model import ModelRecord, ModelVersion
from parity.deploy.bundle import MANIFEST, write_bundle
from parity.deploy.context import assemble, write_files
from parity.deploy.exports import ExportLog
from parity.deploy.image import MODEL_FOLDER
from parity.deploy.kubernetes import Resources
from parity.deploy.served import ServedModel
from parity.env.export import export_environment
from parity.env.export_dockerfile import REQUIREMENTS_NAME, BaseImage, render_dockerfile
from parity.env.records import load_environment
from parity.workspace import Workspace, now_ms


@dataclass(frozen=True)
class ExportOptions:
    """How the image is built: where packages come from, which base, what is left out."""

    hashes: bool = True
    index_url: str = "https://pypi.org/simple"
    extra_index_urls: tuple[str, ...] = ()
    wheels_dir: Path | None = None
    exclude: frozenset[str] = frozenset()
    base_image: str | None = None


@dataclass(frozen=True)
class DeployExportResult:
    """What ``parity deploy export`` wrote and recorded; ``ok`` False when the image could not
    be built exactly as recorded (``problems`` says why, one line each)."""

    model: str  # "churn/3"
    target: str
    folder: Path
    export_id: str
    image: str
    files: tuple[Path, ...]
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "target": self.target,
            "folder": str(self.folder),
            "export_id": self.export_id,
            "image": self.image,
            "files": [str(p) for p in self.files],
            "ok": self.ok,
            "problems": list(self.problems),
        }


def served_model(
    workspace: Workspace, version: ModelVersion, record: ModelRecord, image: str
) -> ServedModel:
    """The facts the manifests carry: the version, its model, environment, run and data."""
    return ServedModel(
        name=version.name,
        version=version.version,
        model_id=version.model_id,
        image=str(ImageReference.parse(image)),
        environment_id=record.environment_id,
        run_id=version.run_id,
        data_versions=training_data_versions(workspace, version),
    )


def _problems(result_problems: Iterable[str], plan: Any) -> tuple[str, ...]:
    found = [
        f"not reproducible: {p.name}=={p.version} ({p.reason}); --exclude {p.name} leaves it out"
        for p in plan.not_reproducible
    ]
    if plan.unhashed:
        found.append(f"no hash for {', '.join(plan.unhashed)}: pass --wheels DIR with them")
    return (*found, *result_problems)


def export_model(
    workspace: Workspace,
    reference: str,
    target: str,
    folder: Path,
    image: str | None,
    resources: Resources,
    options: ExportOptions,
) -> DeployExportResult:
    if target not in TARGETS:
        known = ", ".join(TARGETS)
        raise UsageError(f"unknown deploy target {target!r}", hint=f"use one of {known}")
    version, record = model_record(workspace, reference)
    if record.environment_id is None:
        raise UsageError(
            f"{version.ref} {record.environment_gap()}: no image can be built for it",
            hint="log the model from a run (run.log_model), which records its environment",
        )
    default_image = f"{version.name.lower()}:{version.version}"
    model = served_model(workspace, version, record, image or default_image)
    environment = load_environment(workspace.records, record.environment_id)
    exported = export_environment(
        environment,
        "dockerfile",
        hashes=options.hashes,
        index_url=options.index_url,
        extra_index_urls=options.extra_index_urls,
        cache_dir=workspace.parity_dir / "cache",
        wheels_dir=options.wheels_dir,
        exclude=options.exclude,
        base_image=options.base_image,
        serve=version.ref,
    )
    assert exported.plan is not None
    base = BaseImage.parse(options.base_image) if options.base_image else None
    dockerfile = render_dockerfile(exported.plan, REQUIREMENTS_NAME, options.hashes, base)
    files = assemble(
        target,
        model,
        resources,
        dockerfile,
        exported.files[REQUIREMENTS_NAME],
        exported.copies,
    )
    written = write_files(files, folder)
    write_bundle(workspace.records, version, record, folder / MODEL_FOLDER)
    bundle_path = f"{MODEL_FOLDER}/{MANIFEST}"
    contents = {path: text.encode("utf-8") for path, text in files.texts.items()}
    contents[bundle_path] = (folder / bundle_path).read_bytes()
    export = DeployExport(
        version.name,
        version.version,
        version.model_id,
        target,
        model.image,
        (),
        model.environment_id,
        model.run_id,
        model.data_versions,
    )
    export_id = ExportLog(workspace.records, workspace.export_filings, now_ms).file(
        export, contents, workspace.actor().name
    )
    return DeployExportResult(
        version.ref,
        target,
        folder,
        export_id,
        model.image,
        (*written, folder / bundle_path),
        _problems(exported.problems, exported.plan),
    )
