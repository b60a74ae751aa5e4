"""``parity env export / restore / check-lock / audit``: the environment record put to work.

Attached to the ``env`` group from its own module, so lock files and audits stay apart from
capture, diff and verify.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from parity.api import environments
from parity.cli.env_commands import EXCLUDE_OPTION, PYTHON_OPTION, env_group, print_differences
from parity.cli.output import JSON_OPTION, console, print_json, print_table, say, warn
from parity.cli.reports import report_options, write_check_reports
from parity.core.errors import CheckFailed, ParityError, UsageError

if TYPE_CHECKING:
    from parity.api.environments import ExportPlan, Finding, Subject

DEFAULT_INDEX = "https://pypi.org/simple"
INDEX_OPTION = click.option(
    "--index-url",
    default=DEFAULT_INDEX,
    show_default=True,
    help="The index the packages came from.",
)
EXTRA_INDEX_OPTION = click.option(
    "--extra-index-url",
    "extra_index_urls",
    multiple=True,
    help="Another index, asked first (e.g. the PyTorch index for +cu121 builds).",
)
WHEELS_OPTION = click.option(
    "--wheels",
    "wheels_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="A local folder of wheels to hash what the index cannot serve.",
)


def _exclude_hint(plan: ExportPlan) -> str:
    options = " ".join(f"--exclude {p.name}" for p in plan.not_reproducible)
    return (
        f"{options} leaves them out on purpose (your own project, installed from its source), "
        "or install them from an index or a VCS commit and capture again"
    )


def _problems(plan: ExportPlan) -> None:
    """Say what the export could not pin exactly, then fail: never a silent gap."""
    for package in plan.not_reproducible:
        warn(f"not reproducible: {package.name}=={package.version} ({package.reason})")
    if plan.unhashed:
        warn(f"no hash for: {', '.join(plan.unhashed)}")
    if plan.not_reproducible:
        names = ", ".join(p.name for p in plan.not_reproducible)
        raise CheckFailed(
            f"{_count(len(plan.not_reproducible), 'package')} cannot be reproduced elsewhere: "
            f"{names}",
            hint=_exclude_hint(plan),
        )
    if plan.unhashed:
        raise CheckFailed(
            f"{_count(len(plan.unhashed), 'package')} without a hash: {', '.join(plan.unhashed)}",
            hint="pass --wheels DIR with their wheels, or --no-hashes to export without",
        )


@env_group.command("export")
@click.argument("reference", default="current")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["pylock", "requirements", "conda", "dockerfile", "json"]),
    default="pylock",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write here.")
@click.option("--no-hashes", is_flag=True, help="Pin versions without looking up hashes.")
@EXCLUDE_OPTION
@INDEX_OPTION
@EXTRA_INDEX_OPTION
@WHEELS_OPTION
@click.option(
    "--base-image",
    metavar="NAME:TAG[@sha256:DIGEST]",
    help="The Dockerfile's base image instead of the recorded Python's; a digest pins it.",
)
@PYTHON_OPTION
def export(
    reference: str,
    format_: str,
    output: Path | None,
    no_hashes: bool,
    excluded: tuple[str, ...],
    index_url: str,
    extra_index_urls: tuple[str, ...],
    wheels_dir: Path | None,
    base_image: str | None,
    python: str | None,
) -> None:
    """Export an environment: pylock.toml, requirements.txt, environment.yml, a Dockerfile, JSON.

    REFERENCE is an environment id, a fingerprint file, NAME@ALIAS, or current. Exits 1 when a
    package cannot be pinned exactly (an editable or local install, a missing hash). A
    Dockerfile exported for a model (NAME@ALIAS, NAME/VERSION) runs 'parity serve' of it.
    """
    result = environments.export(
        reference,
        format_,
        hashes=not no_hashes,
        exclude=excluded,
        index_url=index_url,
        extra_index_urls=extra_index_urls,
        wheels_dir=wheels_dir,
        python=python,
        base_image=base_image,
    )
    if output is None:
        click.echo(result.main, nl=False)
        others = [*list(result.files)[1:], *result.copies]
        if others:
            warn(f"the Dockerfile also needs {', '.join(others)}: export with -o to write them")
    else:
        for target in environments.write_export(result, output):
            click.echo(f"wrote {target}", err=True)
    if result.plan is not None:
        _problems(result.plan)
    if result.problems:
        raise CheckFailed("; ".join(result.problems))


@env_group.command("restore")
@click.argument("reference")
@click.option(
    "--venv",
    "venv",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Create the environment here.",
)
@click.option(
    "--python",
    default=None,
    help="Interpreter for the new venv: a path, or a version to look for instead of the record's.",
)
@click.option(
    "--download-python", is_flag=True, help="Let uv download the Python when none is installed."
)
@click.option(
    "--compile-bytecode",
    is_flag=True,
    help="Compile every module at install, for a venv run with PYTHONDONTWRITEBYTECODE=1.",
)
@EXCLUDE_OPTION
@INDEX_OPTION
@EXTRA_INDEX_OPTION
@WHEELS_OPTION
@JSON_OPTION
@click.option("--verbose", "-v", is_flag=True, help="On failure, print uv's whole message.")
def restore(
    reference: str,
    venv: Path,
    python: str | None,
    download_python: bool,
    compile_bytecode: bool,
    excluded: tuple[str, ...],
    index_url: str,
    extra_index_urls: tuple[str, ...],
    wheels_dir: Path | None,
    json_output: bool,
    verbose: bool,
) -> None:
    """Build a venv with exactly REFERENCE's packages (no resolution), then verify it.

    The venv is made with an installed Python of the recorded version (found by uv, in pyenv's
    versions folder or on PATH; exit 3 when there is none), never a downloaded one unless
    --download-python. Exits 1 when the new venv still differs at high risk (another OS, a
    package that could not be restored); --exclude NAME leaves a package out on purpose, and
    then it does not count.
    """
    try:
        result = environments.restore(
            reference,
            venv,
            python=python,
            exclude=excluded,
            index_url=index_url,
            extra_index_urls=extra_index_urls,
            wheels_dir=wheels_dir,
            download_python=download_python,
            compile_bytecode=compile_bytecode,
        )
    except ParityError as failed:
        cause = failed.__cause__
        if verbose and isinstance(cause, subprocess.CalledProcessError) and cause.stderr:
            click.echo(f"$ {shlex.join(map(str, cause.cmd))}\n{cause.stderr.rstrip()}", err=True)
        raise
    plan = result.plan
    if json_output:
        print_json(
            {
                "ok": result.ok,
                "venv": str(result.venv),
                "python": str(result.python),
                "cached": result.cached,
                "not_reproducible": [p.name for p in plan.not_reproducible],
                "excluded": list(plan.excluded),
                "unhashed": list(plan.unhashed),
                "verify": result.verify.to_dict(),
            }
        )
    else:
        source = "the cached lock" if result.cached else "a fresh lock"
        say(f"restored {len(plan.packages)} packages into {result.venv} from {source}")
        for package in plan.not_reproducible:
            warn(f"left out, not reproducible: {package.name} ({package.reason})")
        for pin in plan.excluded:
            warn(f"left out on request (--exclude): {pin}")
        if plan.unhashed:
            warn(f"no file found to install: {', '.join(plan.unhashed)}")
        print_differences(result.verify.diff.differences, show_info=False)
        verdict = "[green]verified[/green]" if result.verify.ok else "[bold red]not verified[/]"
        console().print(
            f"{verdict}: {len(result.verify.blocking)} differences at or above "
            f"{result.verify.threshold} ({len(result.verify.diff.differences)} in all)"
        )
    if not result.ok:
        # A package left out is both not reproducible and missing: name it once.
        left_out = [p.name for p in plan.not_reproducible]
        names = [f"{p} (not reproducible)" for p in left_out]
        names += [
            d.subject
            for d in result.verify.blocking
            if d.subject.removeprefix("package ") not in left_out
        ]
        raise CheckFailed(
            f"the restored environment differs: {_names(names, shown=5)}",
            hint=_exclude_hint(plan) if left_out else None,
        )


@env_group.command("check-lock")
@click.argument("lock", required=False, type=click.Path(path_type=Path, dir_okay=False))
@PYTHON_OPTION
@click.option("--ignore", multiple=True, help="A package that may be installed undeclared.")
@JSON_OPTION
@report_options
def check_lock_command(
    lock: Path | None,
    python: str | None,
    ignore: tuple[str, ...],
    json_output: bool,
    junit_report: Path | None,
    markdown_report: Path | None,
) -> None:
    """Exit 1 when the installed environment drifts from the project's lock file.

    LOCK is uv.lock, poetry.lock, Pipfile.lock, requirements*.txt, pylock.toml or
    environment.yml; left out, the one at the git root is used.
    """
    result = environments.check_lock(lock, python=python, ignore=ignore)
    lock_path = Path(result.lock.path)
    if json_output:
        print_json(result.to_dict())
    elif result.ok:
        say(f"{lock_path}: all {result.matched} declared packages match")
    else:
        print_table(
            ["drift", "package", "locked", "installed"],
            [(d.kind, d.name, d.expected or "-", d.actual or "-") for d in result.drift],
            title=f"{lock_path} ({result.lock.format})",
        )
    write_check_reports(
        result, f"check-lock {lock_path.name}", junit_report, markdown_report, str(lock_path)
    )
    if not result.ok:
        parts = [
            f"{kind} {_names(d.name for d in result.of_kind(kind))}"
            for kind in ("missing", "extra", "different")
            if result.of_kind(kind)
        ]
        raise CheckFailed(f"the environment drifts from {lock_path.name}: {'; '.join(parts)}")


@env_group.command("audit")
@click.argument("reference", default="current")
@click.option("--all", "audit_all", is_flag=True, help="Every recorded environment, model and run.")
@click.option(
    "--advisories",
    required=True,
    metavar="PATH",
    type=click.Path(path_type=Path),
    help="OSV advisories, read offline: PyPI/all.zip, a folder of OSV JSON files, or one file.",
)
@PYTHON_OPTION
@JSON_OPTION
@report_options
def audit(
    reference: str,
    audit_all: bool,
    advisories: Path,
    python: str | None,
    json_output: bool,
    junit_report: Path | None,
    markdown_report: Path | None,
) -> None:
    """List packages with known vulnerabilities, offline; exit 1 if any.

    REFERENCE is an environment id, a fingerprint file, NAME@ALIAS, or current.

    Parity never downloads advisories: --advisories is a copy of OSV's PyPI database that you
    keep, published daily by osv.dev at

    \b
        https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip

    To refresh it, download that file again (on any machine with a network) and copy it over
    the old one; each audit reads it offline.
    """
    if audit_all:
        if junit_report or markdown_report:
            raise UsageError(
                "--junit and --markdown report one environment, not --all",
                hint="audit one REFERENCE, or use parity gate with an audit check per model",
            )
        report = environments.audit_all(advisories)
        if json_output:
            print_json(report.to_dict())
        else:
            from parity.api import runs  # lazy: the run store (SQLAlchemy) only for --all's list

            users_of = {
                r.environment_id: report.affected_subjects(r.environment_id)
                for r in report.vulnerable
            }
            run_ids = runs.short_ids(
                [s.ref for users in users_of.values() for s in users if s.kind == "run"]
            )
            for result in report.vulnerable:
                users = users_of[result.environment_id]
                used = ", ".join(_subject(s, run_ids) for s in users)
                used = used or "nothing registered or tracked"
                say(f"environment {result.environment_id[:12]} (used by {used})")
                _print_findings(result.findings)
            say(f"{len(report.vulnerable)} of {len(report.environments)} environments vulnerable")
        if not report.ok:
            raise CheckFailed(f"{len(report.vulnerable)} recorded environments are vulnerable")
        return
    result = environments.audit(reference, advisories, python=python)
    if json_output:
        print_json(result.to_dict())
    elif result.ok:
        say(f"no known vulnerability in {result.packages} packages")
    else:
        _print_findings(result.findings)
    write_check_reports(result, f"audit {reference}", junit_report, markdown_report, reference)
    if not result.ok:
        raise CheckFailed(f"vulnerable packages: {', '.join(result.vulnerable_packages)}")


def _subject(subject: Subject, run_ids: Mapping[str, str]) -> str:
    if subject.kind == "run":
        return f"run {run_ids.get(subject.ref, subject.ref)}"
    return subject.ref + "".join(f" @{alias}" for alias in subject.aliases)


def _names(names: Iterable[str], shown: int = 8) -> str:
    """A list a line can hold: the first few names, then how many more."""
    every = list(names)
    more = f" and {len(every) - shown} more" if len(every) > shown else ""
    return ", ".join(every[:shown]) + more


def _print_findings(findings: tuple[Finding, ...]) -> None:
    print_table(
        ["package", "version", "advisory", "aliases", "fixed in", "summary"],
        [
            (f.package, f.version, f.advisory, " ".join(f.aliases), " ".join(f.fixed), f.summary)
            for f in findings
        ],
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
