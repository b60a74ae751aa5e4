"""``parity models``: the registry from the command line."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from parity.cli.output import JSON_OPTION, print_json, print_table, say

if TYPE_CHECKING:
    from parity.core.model import ModelVersion

REASON_OPTION = click.option("--reason", "-r", help="Why: kept in the audit trail.")
FORCE_OPTION = click.option("--force", is_flag=True, help="As an admin, override a lock (audited).")


@click.group("models")
def models_group() -> None:
    """Register, promote, lock and inspect model versions."""


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _version_row(v: ModelVersion) -> tuple[str, ...]:
    return (
        str(v.version),
        v.model_id[:12],
        (v.run_id or "")[:12],
        ", ".join(v.aliases),
        "yes" if v.locked else "",
        v.created_by,
        _when(v.created_ms),
    )


@models_group.command("register")
@click.argument("source")
@click.option("--name", "-n", required=True, help="The registered model's name.")
@click.option("--description", help="What this version is.")
@JSON_OPTION
def register(source: str, name: str, description: str | None, json_output: bool) -> None:
    """Create the next version of NAME from a logged model (SOURCE: model id prefix)."""
    from parity.core.model import MODEL_KIND
    from parity.workspace import open_workspace

    workspace = open_workspace()
    model_id = workspace.records.resolve(source, kind=MODEL_KIND)
    version = workspace.registry.register(
        name, model_id, workspace.actor(), description=description
    )
    if json_output:
        print_json(version.to_dict())
    else:
        say(f"Registered {version.ref} (model {model_id[:12]})")


@models_group.command("list")
@JSON_OPTION
def list_models(json_output: bool) -> None:
    """Every registered model, its latest version and aliases."""
    from parity.workspace import open_workspace

    models = open_workspace().registry.models()
    if json_output:
        print_json(models)
        return
    if not models:
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
            for m in models
        ],
    )


@models_group.command("show")
@click.argument("reference")
@JSON_OPTION
def show(reference: str, json_output: bool) -> None:
    """A model's versions (NAME), or one version with its record (NAME@ALIAS, NAME/VERSION)."""
    from parity.registry.loading import read_model_record
    from parity.workspace import open_workspace

    workspace = open_workspace()
    if "@" in reference or "/" in reference:
        version = workspace.registry.resolve(reference)
        record = read_model_record(workspace.records, version.model_id)
        if json_output:
            print_json({**version.to_dict(), "record": record.to_dict()})
            return
        say(
            f"[bold]{version.ref}[/bold]  aliases: {', '.join(version.aliases) or '-'}  "
            f"locked: {'yes' if version.locked else 'no'}",
            markup=True,
        )
        say(f"model {version.model_id}  flavor {record.flavor}  run {version.run_id or '-'}")
        say(f"environment {record.environment_id or '-'}")
        if record.signature:
            say("inputs: " + ", ".join(f"{c.name}:{c.dtype}" for c in record.signature.inputs))
        print_table(
            ["file", "size", "digest"], [(f.path, f.size, f.digest[:12]) for f in record.files]
        )
        return
    versions = workspace.registry.versions(reference)
    if json_output:
        print_json([v.to_dict() for v in versions])
        return
    print_table(
        ["version", "model", "run", "aliases", "locked", "by", "created"],
        [_version_row(v) for v in versions],
        title=reference,
    )


@models_group.command("alias")
@click.argument("name")
@click.argument("version", type=int)
@click.argument("alias_name", metavar="ALIAS")
@click.option("--reason", "-r", required=True, help="Why: kept in the audit trail.")
@FORCE_OPTION
def alias(name: str, version: int, alias_name: str, reason: str, force: bool) -> None:
    """Point ALIAS (e.g. production) at NAME's VERSION; the move is audited."""
    from parity.workspace import open_workspace

    workspace = open_workspace()
    workspace.registry.set_alias(name, version, alias_name, workspace.actor(), reason, force=force)
    say(f"{name}@{alias_name} → {name}/{version}")


@models_group.command("unalias")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.option("--reason", "-r", required=True, help="Why: kept in the audit trail.")
@FORCE_OPTION
def unalias(name: str, alias_name: str, reason: str, force: bool) -> None:
    """Remove ALIAS from NAME."""
    from parity.workspace import open_workspace

    workspace = open_workspace()
    workspace.registry.remove_alias(name, alias_name, workspace.actor(), reason, force=force)
    say(f"removed {name}@{alias_name}")


@models_group.command("lock")
@click.argument("name")
@click.argument("version", type=int)
@REASON_OPTION
def lock(name: str, version: int, reason: str | None) -> None:
    """Lock a version: its aliases cannot move and it cannot be deleted without --force."""
    from parity.workspace import open_workspace

    workspace = open_workspace()
    workspace.registry.lock(name, version, workspace.actor(), reason)
    say(f"locked {name}/{version}")


@models_group.command("unlock")
@click.argument("name")
@click.argument("version", type=int)
@REASON_OPTION
def unlock(name: str, version: int, reason: str | None) -> None:
    """Unlock a version (admins only)."""
    from parity.workspace import open_workspace

    workspace = open_workspace()
    workspace.registry.unlock(name, version, workspace.actor(), reason)
    say(f"unlocked {name}/{version}")


@models_group.command("delete")
@click.argument("name")
@click.argument("version", type=int)
@REASON_OPTION
@FORCE_OPTION
def delete(name: str, version: int, reason: str | None, force: bool) -> None:
    """Delete a version; refused while it is locked or holds an alias."""
    from parity.workspace import open_workspace

    workspace = open_workspace()
    workspace.registry.delete(name, version, workspace.actor(), reason, force=force)
    say(f"deleted {name}/{version}")


@models_group.command("history")
@click.argument("name")
@JSON_OPTION
def history(name: str, json_output: bool) -> None:
    """Every change to NAME: who, when, what, before, after and why."""
    from parity.workspace import open_workspace

    events = open_workspace().registry.history(name)
    if json_output:
        print_json([e.to_dict() for e in events])
        return

    def describe(value: object) -> str:
        return "" if value is None else ", ".join(f"{k}={v}" for k, v in dict(value).items())  # type: ignore[call-overload]

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
@click.argument("reference")
@click.option("--python", help="Check this interpreter instead of the current one.")
@JSON_OPTION
def verify(reference: str, python: str | None, json_output: bool) -> None:
    """Exit 0 when this (or --python's) environment is safe for the model, 1 otherwise."""
    from parity.api.models import describe_blocking, model_record, verify_model_environment
    from parity.cli.env_commands import print_differences
    from parity.core.errors import EnvironmentMismatch, NotFoundError
    from parity.workspace import open_workspace

    workspace = open_workspace()
    version, record = model_record(workspace, reference)
    result = verify_model_environment(workspace, record, python)
    if result is None:
        raise NotFoundError(f"{version.ref} has no recorded environment to verify against")
    if json_output:
        print_json({"model": version.ref, **result.to_dict()})
    else:
        print_differences(result.diff.differences, show_info=False)
        say(f"{version.ref}: " + ("verified" if result.ok else "not verified"))
    if not result.ok:
        raise EnvironmentMismatch(
            f"this environment is not safe for {version.ref}: {describe_blocking(result)}",
            result.blocking,
        )
