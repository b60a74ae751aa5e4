"""Export a recorded environment as a lock file, a conda file, a Dockerfile or its fingerprint.

>>> result = export_environment(environment, "requirements")   # doctest: +SKIP
>>> result.files["requirements.txt"], result.ok                  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from parity.core.environment import Environment
from parity.core.errors import UsageError
from parity.env.export_conda import render_conda
from parity.env.export_dockerfile import REQUIREMENTS_NAME, render_dockerfile
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
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.plan is None or self.plan.ok

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
) -> ExportResult:
    """Render ``environment`` as ``format`` (one of FORMATS); ``ok`` False if anything is lost."""
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
            name: render_dockerfile(plan, REQUIREMENTS_NAME, require_hashes=hashes),
            REQUIREMENTS_NAME: render_requirements(plan, hashes),
        }
    return ExportResult(format, files, plan)
