"""Deploy: a registered model as an image and manifests that carry its lineage, and the record of
what runs where (``parity deploy``).

>>> parity.api.deploy.export("churn@production", "kubernetes", "deploy/churn",
...                          image="registry.example/churn:3")           # doctest: +SKIP
>>> parity.api.deploy.record("churn@production", "prod-eu",
...                          image="registry.example/churn@sha256:…")    # doctest: +SKIP
>>> parity.api.deploy.list("churn")                                      # doctest: +SKIP

An export writes an image context (a Dockerfile from the model's environment export, its
hashed requirements, an entrypoint that runs ``parity serve`` with its start-up gate, and the
model in a ``model/`` folder the build verifies) and the target's manifests: Kubernetes
(Deployment, Service, optional HorizontalPodAutoscaler), a KServe InferenceService speaking the
Open Inference Protocol, or a compose file. Every file is also stored and filed under the model
version, so ``parity models lineage`` shows the export.
"""

from __future__ import annotations

import builtins
import importlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.api._direct import direct_reads
from parity.api._session import session
from parity.core.deployment import TARGETS, DeployExport, Deployment, ImageReference
from parity.core.errors import UsageError
from parity.core.model import ModelVersion
from parity.deploy.kubernetes import Resources
from parity.workspace import Workspace, init_workspace, now_ms

if TYPE_CHECKING:
    from parity.api._deploy import DeployExportResult as DeployExportResult
    from parity.deploy.exports import FiledExport as FiledExport

__all__ = [
    "TARGETS",
    "DeployExport",
    "DeployExportResult",
    "Deployment",
    "FiledExport",
    "Resources",
    "export",
    "exports",
    "history",
    "list",
    "record",
    "unpack",
]


def __getattr__(name: str) -> Any:
    # Exporting (lineage, environment export, manifests) loads on first use: `parity models
    # show` and `deploy list` read deployments without it.
    if name == "DeployExportResult":
        return importlib.import_module("parity.api._deploy").DeployExportResult
    if name == "FiledExport":  # the filings' SQL half too: `models show NAME` reads none
        return importlib.import_module("parity.deploy.exports").FiledExport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def export(
    reference: str,
    target: str = "kubernetes",
    output: str | os.PathLike[str] = "deploy",
    *,
    image: str | None = None,
    resources: Resources | None = None,
    base_image: str | None = None,
    wheels_dir: str | os.PathLike[str] | None = None,
    exclude: Iterable[str] = (),
    index_url: str | None = None,
    extra_index_urls: Iterable[str] = (),
    hashes: bool = True,
    workspace: Workspace | None = None,
) -> DeployExportResult:
    """Write the image context and ``target``'s manifests (``kubernetes``, ``kserve`` or
    ``compose``) for the model version ``reference`` names, into the folder ``output``.

    >>> result = parity.api.deploy.export("churn@production", "kserve", "deploy/churn")
    ... # doctest: +SKIP

    ``image`` is the name the manifests pull (default ``NAME:VERSION``); ``resources`` the
    replicas, autoscaling bound and resource requests; ``base_image`` (``NAME:TAG@sha256:…``)
    pins the Dockerfile's base by digest; ``wheels_dir``, ``exclude``, ``index_url`` and
    ``hashes`` are as for ``parity.api.environments.export``. The files are written even when
    ``ok`` is False (a package could not be pinned exactly: see ``problems``).
    """
    from packaging.utils import canonicalize_name  # lazy: packaging loads only to export

    from parity.api._deploy import ExportOptions, export_model  # lazy: see __getattr__

    options = ExportOptions(
        hashes=hashes,
        index_url=index_url or ExportOptions.index_url,
        extra_index_urls=tuple(extra_index_urls),
        wheels_dir=None if wheels_dir is None else Path(wheels_dir),
        exclude=frozenset(canonicalize_name(name) for name in exclude),
        base_image=base_image,
    )
    with session(workspace) as ws:
        return export_model(
            ws, reference, target, Path(output), image, resources or Resources(), options
        )


def exports(reference: str, *, workspace: Workspace | None = None) -> builtins.list[FiledExport]:
    """The exports made for the model version ``reference`` names, oldest first."""
    from parity.deploy.exports import ExportLog  # lazy: SQLAlchemy (the filings), on use

    with session(workspace) as ws:
        version = ws.registry.resolve(reference)
        return ExportLog(ws.records, ws.export_filings, now_ms).of_version(
            version.name, version.version
        )


def record(
    reference: str,
    where: str,
    *,
    image: str,
    note: str | None = None,
    workspace: Workspace | None = None,
) -> Deployment:
    """Record that the version ``reference`` names now runs at ``where``, in ``image``
    (``NAME[:TAG]@sha256:DIGEST``: the digest is what ran, a tag can move). What CI calls after
    a rollout; recording what already runs there changes nothing.

    >>> parity.api.deploy.record("churn/3", "prod-eu",
    ...                          image="registry.example/churn@sha256:" + "0" * 64)
    ... # doctest: +SKIP
    """
    if "@" not in reference and "/" not in reference:
        # As for any change: "the latest" could be a version registered a moment ago.
        raise UsageError(
            f"{reference!r} names a model, not the version that runs at {where}",
            hint=f"give {reference}/VERSION or {reference}@ALIAS",
        )
    if ImageReference.parse(image).digest is None:
        raise UsageError(
            f"{image!r} names no image digest",
            hint="give the image as NAME@sha256:DIGEST, e.g. registry.example/churn@sha256:"
            "<64 hex digits> (a tag can be moved to another image)",
        )
    from parity.api._deployments import record_deployment  # lazy: the models' half, on use

    with session(workspace) as ws:
        return record_deployment(ws, reference, where, image, "record", note)[0]


def list(
    model: str | None = None,
    *,
    where: str | None = None,
    workspace: Workspace | None = None,
) -> builtins.list[Deployment]:
    """What runs now: the newest record of each place and model (of ``model``, at ``where``).

    >>> [(d.place, d.ref) for d in parity.api.deploy.list("churn")]   # doctest: +SKIP
    [('prod-eu', 'churn/3'), ('staging', 'churn/4')]
    """
    name = _model_name(model)
    with session(workspace) as ws, direct_reads(ws) as direct:
        if direct is None:
            return ws.deployments.current(name, where)
        return direct.current_deployments(name, where)


def history(
    model: str | None = None,
    *,
    where: str | None = None,
    workspace: Workspace | None = None,
) -> builtins.list[Deployment]:
    """Every deployment record, oldest first (of ``model``, at ``where``)."""
    with session(workspace) as ws:
        return ws.deployments.history(_model_name(model), where)


def _model_name(model: str | None) -> str | None:
    return None if model is None else model.split("@")[0].split("/")[0]


def unpack(
    bundle: str | os.PathLike[str],
    into: str | os.PathLike[str],
    *,
    model_id: str,
    workspace: Workspace | None = None,
) -> ModelVersion:
    """Take the model folder of an export into a workspace at ``into`` (created if needed):
    the build step of the exported Dockerfile. Refuses a folder holding any other model than
    ``model_id`` and any object that does not match its digest. ``workspace`` is the workspace
    to fill instead of the one at ``into``.
    """
    if workspace is not None:
        return _unpack(workspace, Path(bundle), model_id)
    opened, _ = init_workspace(Path(into))
    with opened:
        return _unpack(opened, Path(bundle), model_id)


def _unpack(workspace: Workspace, bundle: Path, model_id: str) -> ModelVersion:
    from parity.api._models import model_record  # lazy: the models' half, on use
    from parity.deploy.bundle import unpack_bundle  # lazy: SQLAlchemy, only to unpack
    from parity.registry.versions import Registry  # lazy: SQLAlchemy, only to unpack

    registry = workspace.registry
    if not isinstance(registry, Registry):  # an image keeps its own embedded workspace
        raise UsageError(
            "an export is unpacked into the image's own workspace, not through a server",
            hint="unset PARITY_SERVER_URL for the build step",
        )
    version = unpack_bundle(
        bundle, workspace.records, registry, workspace.actor(), now_ms(), model_id
    )
    model_record(workspace, version.ref)  # the version resolves to a model this store holds
    return version
