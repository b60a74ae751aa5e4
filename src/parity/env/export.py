"""Export a recorded environment as a lock file, a conda file, a Dockerfile or its fingerprint.

>>> result = export_environment(environment, "requirements")   # doctest: +SKIP
>>> result.files["requirements.txt"], result.ok                  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from parity.core.environment import Environment
from parity.core.errors import UsageError
from parity.env.export_conda import render_conda
from parity.env.export_dockerfile import (
    REQUIREMENTS_NAME,
    WHEELS_FOLDER,
    BaseImage,
    local_wheels,
    render_dockerfile,
)
from parity.env.export_pylock import render_pylock
from parity.env.export_requirements import render_requirements
from parity.env.hashes import DEFAULT_INDEX
from parity.env.pins import ExportPlan, plan_export

FORMATS = ("pylock", "requirements", "conda", "dockerfile", "json")
FILE_NAMES = {
    "pylock": "pylock.toml",
    "requirements": REQUIREMENTS_NAME,
    "conda": "environment.yml",
    "dockerfile": "Dockerfile",
    "json": "environment.json",
}


@dataclass(frozen=True)
class ExportResult:
    format: str
    files: dict[str, str]  # file name -> text; the main file first
    plan: ExportPlan | None = None  # None for the fingerprint, which pins nothing
    problems: tuple[str, ...] = field(default=())  # what makes the export unfit, one line each
    # Relative name -> local file copied beside the main file (a Dockerfile's local wheels).
    copies: dict[str, Path] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (self.plan is None or self.plan.ok) and not self.problems

    @property
    def main(self) -> str:
        return next(iter(self.files.values()))


def export_environment(
    environment: Environment,
    format: str,
    *,
    hashes: bool = True,
    index_url: str = DEFAULT_INDEX,
    extra_index_urls: tuple[str, ...] = (),
    cache_dir: Path | None = None,
    wheels_dir: Path | None = None,
    exclude: frozenset[str] = frozenset(),
    base_image: str | None = None,
    serve: str | None = None,
) -> ExportResult:
    """Render ``environment`` as ``format`` (one of FORMATS); ``ok`` False if anything is lost.

    For a Dockerfile, ``base_image`` replaces the recorded Python's (or CUDA's) image, pinned by
    digest when it names one; ``serve`` names the model the image serves (its ``CMD``).
    """
    if base_image is not None and format != "dockerfile":
        raise UsageError("--base-image is for --format dockerfile", hint="drop --base-image")
    base = BaseImage.parse(base_image) if base_image is not None else None
    if format not in FORMATS:
        raise UsageError(
            f"unknown export format {format!r}", hint=f"use one of {', '.join(FORMATS)}"
        )
    if format == "json":
        document = environment.to_document()
        text = json.dumps(document, indent=2, sort_keys=True) + "\n"
        return ExportResult(format, {FILE_NAMES[format]: text})
    if format == "pylock" and not hashes:
        raise UsageError("pylock.toml needs a hash for every file", hint="drop --no-hashes")
    plan = plan_export(
        environment,
        hashes=hashes and format != "conda",
        index_url=index_url,
        extra_index_urls=extra_index_urls,
        cache_dir=cache_dir,
        wheels_dir=wheels_dir,
        exclude=exclude,
    )
    name = FILE_NAMES[format]
    if format == "pylock":
        files = {name: render_pylock(plan)}
    elif format == "requirements":
        files = {name: render_requirements(plan, hashes)}
    elif format == "conda":
        files = {name: render_conda(plan)}
    else:
        files = {
            name: render_dockerfile(plan, REQUIREMENTS_NAME, hashes, base, serve),
            REQUIREMENTS_NAME: render_requirements(plan, hashes),
        }
        copies = {
            f"{WHEELS_FOLDER}/{filename}": Path(path)
            for filename, path in local_wheels(plan).items()
        }
        problems = _serving_problems(plan, serve) if serve is not None else ()
        return ExportResult(format, files, plan, problems, copies)
    return ExportResult(format, files, plan)


def _serving_problems(plan: ExportPlan, model: str) -> tuple[str, ...]:
    """What the image lacks to run ``parity serve``: Parity and its ``serve`` extra."""
    pinned = {package.name for package in plan.packages}
    missing = sorted(name for name in _serving_packages() if name not in pinned)
    if not missing:
        return ()
    return (
        f"the image cannot serve {model}: it would lack {', '.join(missing)} "
        "(record the model where parity-ml[serve] is installed, or export its environment id "
        "for an image without the server)",
    )


def _serving_packages() -> set[str]:
    """parity-ml and what its ``serve`` extra requires, from Parity's own installed metadata."""
    try:
        required = requires("parity-ml") or []
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        required = []
    names = {"parity-ml"}
    for line in required:
        requirement = Requirement(line)
        marker = requirement.marker
        # In the serve extra, and not a base dependency (a marker that holds without it).
        in_serve = marker is not None and marker.evaluate({"extra": "serve"})
        if in_serve and marker is not None and not marker.evaluate({"extra": ""}):
            names.add(canonicalize_name(requirement.name))
    return names
