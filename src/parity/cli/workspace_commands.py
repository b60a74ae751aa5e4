"""``parity init`` and ``parity status``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from parity.api import workspace as workspaces
from parity.cli.output import JSON_OPTION, print_json, print_table, say


@click.command()
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
def init(path: Path | None) -> None:
    """Create a Parity workspace (.parity/ with config, database and object store).

    PATH defaults to the git root, else the current folder.
    """
    workspace, created = workspaces.init(path)
    with workspace:
        if created:
            say(f"Initialised Parity workspace in {workspace.parity_dir}")
        else:
            say(f"Parity workspace already initialised in {workspace.parity_dir}; nothing changed")


@click.command()
@JSON_OPTION
def status(json_output: bool) -> None:
    """Show the workspace, its stores and what they hold."""
    report = workspaces.status()
    if json_output:
        print_json(report)
        return
    say(f"[bold]Workspace[/bold] {report['root']}", markup=True)
    server = report["server"]
    if server is not None:
        _print_server(server)
        _print_unsent(report["unsent"])
        _print_refused(report["refused"])
        _print_remotes(report["remotes"])
        return
    print_table(
        ["store", "location", "detail"],
        [
            ("metadata", report["metadata"]["url"], f"schema {report['metadata']['schema']}"),
            ("objects", report["objects"]["url"], ""),
        ],
    )
    records = report["records"]
    if records:
        print_table(["record kind", "count"], sorted(records.items()), title="Records")
    else:
        say("No records yet.")
    if report["runs"]:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(report["runs"].items()))
        say(f"Runs: {counts}")
    for model in report["models"]:
        aliases = ", ".join(f"@{a} → {v}" for a, v in sorted(model["aliases"].items()))
        say(f"Model {model['name']}: latest version {model['latest_version']}  {aliases}".rstrip())
    _print_unsent(report["unsent"])
    _print_refused(report["refused"])
    _print_remotes(report["remotes"])


def _print_refused(refusals: list[dict[str, Any]]) -> None:
    """Writes a server refused for good: the run failed on them; the file keeps each and why."""
    if refusals:
        print_table(
            ["run", "refused writes", "kept in"],
            [(r["run_id"], r["writes"], r["file"]) for r in refusals],
            title="Writes the server refused (the runs failed on them)",
        )


def _print_server(server: dict[str, Any]) -> None:
    if server["error"]:
        say(f"Server {server['url']}: not answering as expected: {server['error']}")
    else:
        say(f"Server {server['url']}: signed in as {server['user']} ({server['role']})")


def _print_remotes(remotes: list[dict[str, Any]]) -> None:
    if remotes:
        print_table(
            ["remote", "url", "default"],
            [(r["name"], r["url"], "yes" if r["default"] else "") for r in remotes],
        )


def _print_unsent(waiting: list[dict[str, Any]]) -> None:
    """Runs whose journals hold writes the server does not have yet."""
    if waiting:
        print_table(
            ["run", "unsent writes", "state"],
            [
                (j["run_id"], j["entries"], "sending (running)" if j["live"] else "waiting")
                for j in waiting
            ],
            title="Unsent runs (parity runs sync sends them)",
        )
