"""``parity models``: the registry from the command line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from parity.api import deploy, models
from parity.api import runs as api_runs
from parity.api import workspace as workspaces
from parity.cli import completion
from parity.cli.groups import AliasedGroup
from parity.cli.output import JSON_OPTION, print_json, print_table, say, warn
from parity.cli.reports import report_options, write_check_reports
from parity.core.errors import CheckFailed, EnvironmentMismatch, UsageError
from parity.core.model import ModelVersion
from parity.core.run import short_run_id

if TYPE_CHECKING:
    from parity.api.models import LineageNode

REASON_OPTION = click.option("--reason", "-r", help="Why: kept in the audit trail.")
FORCE_OPTION = click.option("--force", is_flag=True, help="As an admin, override a lock (audited).")


@click.group("models", cls=AliasedGroup, aliases={"ls": "list"})
def models_group() -> None:
    """Register, promote, lock and inspect model versions."""


def _short(value: object, run_ids: Mapping[str, str] | None = None) -> str:
    """Ids shortened as people read them everywhere (digests to 12 characters, run ids to their
    shortest unique prefix, from ``run_ids``); anything else as is."""
    if value is None:
        return "-"
    text = str(value)
    hexadecimal = len(text) >= 32 and all(ch in "0123456789abcdef" for ch in text)
    if not hexadecimal:
        return text
    if _is_run_id(text):
        return (run_ids or {}).get(text, text)
    return text[:12]


def _is_run_id(value: object) -> bool:
    text = str(value)
    return len(text) == 32 and all(ch in "0123456789abcdef" for ch in text)


def _run_ids(*run_ids: str | None) -> dict[str, str]:
    """The shortest unique prefix of each run id given (``parity runs`` prints the same)."""
    present = [r for r in run_ids if r]
    return api_runs.short_ids(present) if present else {}


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _version_row(v: ModelVersion, run_ids: Mapping[str, str]) -> tuple[str, ...]:
    return (
        str(v.version),
        v.model_id[:12],
        run_ids.get(v.run_id or "", "-"),
        ", ".join(v.aliases),
        "yes" if v.locked else "",
        v.created_by,
        _when(v.created_ms),
    )


@models_group.command("register")
@click.argument("source", metavar="RUN[:PATH]", shell_complete=completion.run_ids)
@click.option("--name", "-n", required=True, help="The registered model's name.")
@click.option("--description", help="What this version is.")
@JSON_OPTION
def register(source: str, name: str, description: str | None, json_output: bool) -> None:
    """Create the next version of NAME from a model a run logged (PATH defaults to "model"),
    or from a logged model's id prefix."""
    version = models.register(source, name, description=description)
    if json_output:
        print_json(version.to_dict())
    else:
        run = f", run {_run_ids(version.run_id)[version.run_id]}" if version.run_id else ""
        say(f"Registered {version.ref} (model {version.model_id[:12]}{run})")


@models_group.command("list")
@JSON_OPTION
def list_models(json_output: bool) -> None:
    """Every registered model, its latest version and aliases."""
    registered = models.list()
    if json_output:
        print_json(registered)
        return
    if not registered:
        say("No registered models yet.")
        return
    print_table(
        ["model", "latest", "aliases", "created"],
        [
            (
                m["name"],
                m["latest_version"] or "-",
                ", ".join(f"{a}→{v}" for a, v in sorted(m["aliases"].items())),
                _when(m["created_ms"]),
            )
            for m in registered
        ],
    )


@models_group.command("show")
@click.argument("reference", shell_complete=completion.model_references)
@JSON_OPTION
def show(reference: str, json_output: bool) -> None:
    """A model's versions (NAME), or one version with its record (NAME@ALIAS, NAME/VERSION)."""
    if "@" in reference or "/" in reference:
        with workspaces.open() as workspace:
            version = models.get(reference, workspace=workspace)
            record = models.record(version.ref, workspace=workspace)
            running = [
                d for d in deploy.list(version.name, workspace=workspace) if d.ref == version.ref
            ]
            exported = deploy.exports(version.ref, workspace=workspace)
            from parity.api import repro  # lazy: only a version's page lists its reproductions

            reproductions = (
                repro.history(version.ref, workspace=workspace) if version.run_id else []
            )
            from parity.api import monitor  # lazy: only a version's page lists its checks

            checks = monitor.performance_history(version.ref, workspace=workspace)
        if json_output:
            print_json(
                {
                    **version.to_dict(),
                    "record": record.to_dict(),
                    "reproductions": [r.to_dict() for r in reproductions],
                    "deployments": [d.to_dict() for d in running],
                    "exports": [
                        {"id": e.id, "target": e.export.target, "image": e.export.image}
                        for e in exported
                    ],
                    "performance": checks[-1] if checks else None,
                }
            )
            return
        say(
            f"[bold]{version.ref}[/bold]  aliases: {', '.join(version.aliases) or '-'}  "
            f"locked: {'yes' if version.locked else 'no'}",
            markup=True,
        )
        say(f"model {version.model_id}  flavor {record.flavor}  run {version.run_id or '-'}")
        say(f"environment {record.environment_id or '-'}")
        if reproductions:
            last = reproductions[-1]
            shown = _run_ids(last.run_id)[last.run_id]
            say(f"last repro  {last.verdict} (run {shown}, {_when(last.created_ms)})")
        elif version.run_id:
            say("last repro  never reproduced (parity repro " + version.ref + ")")
        if checks:
            last_check = checks[-1]
            why = "; ".join(map(str, last_check.get("degraded") or ()))
            say(
                f"performance  {last_check.get('status')} over {last_check.get('labels', '?')}"
                f" labels ({_when(last_check['time_ms'])})" + (f": {why}" if why else "")
            )
        if record.signature:
            say("inputs: " + ", ".join(f"{c.name}:{c.dtype}" for c in record.signature.inputs))
        print_table(
            ["file", "size", "digest"], [(f.path, f.size, f.digest[:12]) for f in record.files]
        )
        for d in running:
            say(f"runs at {d.place} since {_when(d.recorded_ms)} in {d.image or '-'}")
        for e in exported:
            say(f"exported for {e.export.target} ({e.id[:12]}) on {_when(e.created_ms)}")
        return
    versions = models.versions(reference)
    if json_output:
        print_json([v.to_dict() for v in versions])
        return
    run_ids = _run_ids(*(v.run_id for v in versions))
    print_table(
        ["version", "model", "run", "aliases", "locked", "by", "created"],
        [_version_row(v, run_ids) for v in versions],
        title=reference,
    )
    for d in deploy.list(reference):
        say(f"{d.ref} runs at {d.place} since {_when(d.recorded_ms)} in {d.image or '-'}")


def _version_arguments(command: click.decorators.FC) -> click.decorators.FC:
    """REF (NAME/VERSION, NAME@ALIAS), as show, lineage and verify take it, or NAME VERSION."""
    command = click.argument("version", metavar="[VERSION]", type=int, required=False)(command)
    complete = completion.model_references
    return click.argument("model", metavar="REF|NAME", shell_complete=complete)(command)


@models_group.command("alias")
@click.argument("words", nargs=-1, required=True, metavar="REF ALIAS | NAME VERSION ALIAS")
@click.option("--reason", "-r", required=True, help="Why: kept in the audit trail.")
@FORCE_OPTION
def alias(words: tuple[str, ...], reason: str, force: bool) -> None:
    """Point ALIAS (e.g. production) at a version, audited: REF is NAME/VERSION or NAME@ALIAS
    (the version another alias names), or give NAME VERSION."""
    if len(words) == 2:
        model, version, alias_name = words[0], None, words[1]
    elif len(words) == 3:
        if not words[1].isdigit():
            raise UsageError(f"{words[1]!r} is not a version number", hint="e.g. bc 3 production")
        model, version, alias_name = words[0], int(words[1]), words[2]
    else:
        raise UsageError(
            "give REF ALIAS or NAME VERSION ALIAS", hint="e.g. bc/3 production, or bc 3 production"
        )
    moved = models.alias(model, version, alias_name, reason=reason, force=force)
    say(f"{moved.name}@{alias_name} → {moved.ref}")


@models_group.command("rollback")
@click.argument("model", metavar="NAME@ALIAS | NAME", shell_complete=completion.model_references)
@click.argument("alias_name", metavar="[ALIAS]", required=False)
@click.option("--to", "to", type=click.IntRange(min=1), help="The version to move it to.")
@click.option("--reason", "-r", required=True, help="Why: kept in the audit trail.")
@FORCE_OPTION
def rollback(model: str, alias_name: str | None, to: int | None, reason: str, force: bool) -> None:
    """Move an alias back to the version it named before its last move (or --to VERSION),
    audited: NAME@ALIAS, or NAME ALIAS."""
    moved = models.rollback(model, alias_name, to=to, reason=reason, force=force)
    name, _, named = model.partition("@")
    say(f"rolled back {name}@{alias_name or named} → {moved.ref}")


@models_group.command("approve")
@_version_arguments
@click.option("--reason", "-r", required=True, help="Why: kept in the audit trail.")
def approve(model: str, version: int | None, reason: str) -> None:
    """Approve a version for promotion, REF or NAME VERSION (not as its registrant); audited.

    An alias with [promote.ALIAS] approvals = N in parity.toml moves to a version only once N
    users other than its registrant approved it.
    """
    approved = models.approve(model, version, reason=reason)
    say(f"approved {approved.ref}")


@models_group.command("unalias")
@click.argument("model", metavar="NAME@ALIAS | NAME", shell_complete=completion.model_references)
@click.argument("alias_name", metavar="[ALIAS]", required=False)
@click.option("--reason", "-r", required=True, help="Why: kept in the audit trail.")
@FORCE_OPTION
def unalias(model: str, alias_name: str | None, reason: str, force: bool) -> None:
    """Remove an alias: NAME@ALIAS, or NAME ALIAS."""
    models.unalias(model, alias_name, reason=reason, force=force)
    name, _, named = model.partition("@")
    say(f"removed {name}@{alias_name or named}")


@models_group.command("lock")
@_version_arguments
@REASON_OPTION
def lock(model: str, version: int | None, reason: str | None) -> None:
    """Lock a version (REF is NAME/VERSION or NAME@ALIAS, or give NAME VERSION): its aliases
    cannot move and it cannot be deleted without --force."""
    locked = models.lock(model, version, reason=reason)
    say(f"locked {locked.ref}")


@models_group.command("unlock")
@_version_arguments
@REASON_OPTION
def unlock(model: str, version: int | None, reason: str | None) -> None:
    """Unlock a version, REF or NAME VERSION (admins only)."""
    unlocked = models.unlock(model, version, reason=reason)
    say(f"unlocked {unlocked.ref}")


@models_group.command("delete")
@_version_arguments
@REASON_OPTION
@FORCE_OPTION
def delete(model: str, version: int | None, reason: str | None, force: bool) -> None:
    """Delete a version, REF or NAME VERSION; refused while it is locked or holds an alias."""
    deleted = models.delete(model, version, reason=reason, force=force)
    say(f"deleted {deleted.ref}")


@models_group.command("history")
@click.argument("name", shell_complete=completion.model_names)
@JSON_OPTION
def history(name: str, json_output: bool) -> None:
    """Every change to NAME: who, when, what, before, after and why."""
    events = models.history(name)
    if json_output:
        print_json([e.to_dict() for e in events])
        return

    def describe(value: object) -> str:
        if value is None:
            return ""
        return ", ".join(f"{k}={_short(v)}" for k, v in dict(value).items())  # type: ignore[call-overload]

    print_table(
        ["#", "time", "actor", "action", "version", "before", "after", "reason"],
        [
            (
                e.sequence,
                _when(e.time_ms),
                e.actor,
                e.action + (" (forced)" if e.forced else ""),
                e.version,
                describe(e.before),
                describe(e.after),
                e.reason or "",
            )
            for e in events
        ],
        title=f"history of {name}",
    )


@models_group.command("verify")
@click.argument("reference", shell_complete=completion.model_references)
@click.option("--python", help="Check this interpreter instead of the current one.")
@JSON_OPTION
@report_options
def verify(
    reference: str,
    python: str | None,
    json_output: bool,
    junit_report: Path | None,
    markdown_report: Path | None,
) -> None:
    """Exit 0 when the model's files are intact and this (or --python's) environment is safe
    for it, 1 otherwise."""
    from parity.cli.env_commands import print_differences  # lazy: the env group, on use

    check = models.verify(reference, python=python)
    if json_output:
        print_json(check.to_dict())
    else:
        print_differences(check.result.diff.differences, show_info=False)
        for problem in check.files:
            say(f"file {problem.path}: {problem.problem}")
        say(f"{check.model}: " + ("verified" if check.ok else "not verified"))
    write_check_reports(check, f"verify {reference}", junit_report, markdown_report, reference)
    if not check.files_ok:
        first = check.files[0]
        more = f" (and {len(check.files) - 1} more)" if len(check.files) > 1 else ""
        raise CheckFailed(
            f"{check.model}'s file {first.path} is damaged: {first.problem}{more}",
            hint="restore the object from a copy of the store; 'parity object verify' lists all",
        )
    if not check.ok:
        raise EnvironmentMismatch(
            f"this environment is not safe for {check.model}: {check.summary}", check.blocking
        )


def _describe_node(node: LineageNode, run_ids: Mapping[str, str]) -> str:
    a = node.attributes
    if node.kind == "model_version":
        aliases = ", ".join(a.get("aliases", ())) or "-"
        return f"model version {node.label}  aliases: {aliases}" + (
            "  locked" if a.get("locked") else ""
        )
    if node.kind == "model":
        return f"model {node.label}  flavor {a['flavor']}, {len(a['files'])} files"
    if node.kind == "run":
        params = ", ".join(f"{k}={v}" for k, v in sorted(a["params"].items()))
        metrics = ", ".join(
            f"{k}={v:.4g}" for k, v in sorted(a["metrics"].items()) if v is not None
        )
        name = "" if node.label == short_run_id(a["id"]) else f" {node.label!r}"
        return (
            f"run {run_ids.get(a['id'], a['id'])}{name} {a['status']}"
            + (f"  params: {params}" if params else "")
            + (f"  metrics: {metrics}" if metrics else "")
        )
    if node.kind == "code":
        branch = f" on {a['branch']}" if a.get("branch") else ""
        return f"code {str(a['commit'])[:12]}{branch}" + (" (dirty)" if a["dirty"] else "")
    if node.kind == "data":
        return f"data {node.label}  {a['path']}"
    if node.kind == "infra":
        redacted = sum(1 for f in a["files"] if f.get("redacted"))
        extra = f", {redacted} redacted" if redacted else ""
        refused = f", {len(a['refused'])} refused" if a["refused"] else ""
        return f"infrastructure {node.label}  {len(a['files'])} files{extra}{refused}"
    if node.kind == "export":
        return f"export {node.label}  image {a['image']}, {len(a['files'])} files"
    if node.kind == "deployment":
        return f"deployed at {a['where']} since {_when(a['since_ms'])}  image {a['image'] or '-'}"
    if node.kind == "environment" and a.get("description"):
        return f"environment {node.label}  {a['description']}"
    return f"{node.kind} {node.label}"


@models_group.command("lineage")
@click.argument("reference", shell_complete=completion.model_references)
@JSON_OPTION
@click.option("--dot", "dot_output", is_flag=True, help="Print a Graphviz DOT graph.")
def lineage(reference: str, json_output: bool, dot_output: bool) -> None:
    """What made a model: run, code state, data versions, environment and parent runs."""
    if json_output and dot_output:
        raise UsageError("--json and --dot cannot be combined", hint="pick one")
    graph = models.lineage(reference)
    if json_output:
        print_json(graph.to_dict())
    elif dot_output:
        click.echo(graph.to_dot(), nl=False)
    else:
        run_ids = _run_ids(*(n.attributes["id"] for n in graph.nodes if n.kind == "run"))
        for line in graph.tree(lambda node: _describe_node(node, run_ids)):
            click.echo(line)
        for run_id in graph.missing_runs:
            warn(f"run {run_id} is not in this workspace: its lineage stops there")


@models_group.command("compare")
@click.argument("first", metavar="A", shell_complete=completion.model_references)
@click.argument("second", metavar="B", shell_complete=completion.model_references)
@click.option("--all", "show_all", is_flag=True, help="Show equal values too.")
@JSON_OPTION
def compare(first: str, second: str, show_all: bool, json_output: bool) -> None:
    """Two models side by side: metrics, params, environment and data differences."""
    result = models.compare(first, second)
    if json_output:
        print_json(result.to_dict())
        return

    run_ids = _run_ids(*(str(v) for c in result.model for v in (c.a, c.b) if _is_run_id(v)))
    for title, changes in (
        ("model", result.model),
        ("params", result.params),
        ("metrics", result.metrics),
        ("data inputs", result.data),
    ):
        rows = [
            (c.key, _short(c.a, run_ids), _short(c.b, run_ids), "≠" if c.differs else "")
            for c in changes
            if show_all or c.differs
        ]
        if rows:
            print_table([title, result.a, result.b, ""], rows)
    if result.environment is None:
        say("environment: not recorded on both sides")
    elif result.environment.identical:
        say("environment: identical")
    else:
        from parity.cli.env_commands import print_differences  # lazy: the env group, on use

        print_differences(result.environment.differences, show_info=show_all)
    if result.identical:
        say(f"{result.a} and {result.b} are the same")
