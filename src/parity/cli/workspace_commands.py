"""``parity init`` and ``parity status``."""

from __future__ import annotations

from pathlib import Path

import typer

from parity.cli.output import print_json, print_table, say


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("status")(status)


def init(
    path: Path | None = typer.Argument(
        None, help="Where to create the workspace (default: the git root, else here)."
    ),
) -> None:
    """Create a Parity workspace (.parity/ with config, database and object store)."""
    from parity.workspace import init_workspace

    workspace, created = init_workspace(path)
    try:
        if created:
            say(f"Initialised Parity workspace in {workspace.parity_dir}")
        else:
            say(f"Parity workspace already initialised in {workspace.parity_dir}; nothing changed")
    finally:
        workspace.close()


def status(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the workspace, its stores and what they hold."""
    from parity.api.status import workspace_status
    from parity.workspace import open_workspace

    workspace = open_workspace()
    try:
        report = workspace_status(workspace)
    finally:
        workspace.close()
    if json_output:
        print_json(report)
        return
    say(f"[bold]Workspace[/bold] {report['root']}")
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
    remotes = report["remotes"]
    if remotes:
        print_table(
            ["remote", "url", "default"],
            [(r["name"], r["url"], "yes" if r["default"] else "") for r in remotes],
        )
