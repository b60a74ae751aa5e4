"""What one ``parity deploy export`` writes: the image context and the target's manifests.

``assemble`` renders every text file (no clock, no host in any of them, so the same export is
the same bytes); ``write_files`` writes them atomically under the output folder, the entrypoint
executable, and copies the local wheels the requirements pin by hash beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from parity.core.deployment import TARGETS
from parity.core.errors import UsageError
from parity.deploy import compose, kserve, kubernetes
from parity.deploy.image import (
    ENTRYPOINT,
    render_dockerfile,
    render_dockerignore,
    render_entrypoint,
)
from parity.deploy.kubernetes import Resources
from parity.deploy.served import ServedModel
from parity.store.objects.local import atomic_write_bytes

REQUIREMENTS = "requirements.txt"


@dataclass(frozen=True)
class ContextFiles:
    texts: dict[str, str]  # relative path -> content, the Dockerfile first
    copies: dict[str, Path] = field(default_factory=dict)  # relative path -> local file

    @property
    def manifests(self) -> list[str]:
        return [p for p in self.texts if p.endswith(".yaml")]


def to_yaml(document: Mapping[str, Any], model: ServedModel) -> str:
    header = (
        f"# Exported by Parity for {model.ref} (model {model.model_id[:12]}); "
        f"lineage: parity models lineage {model.ref}\n"
    )
    return header + yaml.safe_dump(dict(document), sort_keys=False, default_flow_style=False)


def target_manifests(
    target: str, model: ServedModel, resources: Resources
) -> dict[str, dict[str, Any]]:
    """Relative path -> the object each manifest file of ``target`` holds."""
    if target == "kubernetes":
        found = kubernetes.manifests(model, resources)
    elif target == "kserve":
        found = kserve.manifests(model, resources)
    elif target == "compose":
        return compose.manifests(model)
    else:
        known = ", ".join(TARGETS)
        raise UsageError(f"unknown deploy target {target!r}", hint=f"use one of {known}")
    return {f"{target}/{name}": document for name, document in found.items()}


def assemble(
    target: str,
    model: ServedModel,
    resources: Resources,
    environment_dockerfile: str,
    requirements: str,
    wheels: Mapping[str, Path],
) -> ContextFiles:
    texts = {
        "Dockerfile": render_dockerfile(environment_dockerfile, model),
        REQUIREMENTS: requirements,
        ENTRYPOINT: render_entrypoint(model),
        ".dockerignore": render_dockerignore(bool(wheels)),
    }
    for path, document in target_manifests(target, model, resources).items():
        texts[path] = to_yaml(document, model)
    return ContextFiles(texts, dict(wheels))


def write_files(files: ContextFiles, folder: Path) -> list[Path]:
    written = []
    for relative, text in files.texts.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, text.encode("utf-8"))
        if relative == ENTRYPOINT:
            mode = path.stat().st_mode  # executable by whoever may read it (the umask holds)
            path.chmod(mode | ((mode & 0o444) >> 2))
        written.append(path)
    for relative, source in files.copies.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, source.read_bytes())
        written.append(path)
    return written
