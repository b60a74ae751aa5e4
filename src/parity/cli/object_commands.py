"""``parity object``: plumbing over the content-addressed object store (put, get, verify)."""

from __future__ import annotations

from pathlib import Path

import typer

from parity.cli.output import print_json, say

object_app = typer.Typer(help="Low-level access to the object store.", no_args_is_help=True)


@object_app.command("put")
def put(path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Store a file's content and print its digest."""
    from parity.workspace import open_workspace

    workspace = open_workspace()
    say(workspace.objects.put_file(path))


@object_app.command("get")
def get(
    digest: str,
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the content."),
) -> None:
    """Write an object's verified content to a file."""
    from parity.workspace import open_workspace

    open_workspace().objects.get_to_file(digest, output)


@object_app.command("verify")
def verify(
    digests: list[str] = typer.Argument(None, help="Objects to check (default: all)."),
    json_output: bool = typer.Option(False, "--json"),
) -> None:
    """Re-hash objects; exit 1 if any is corrupt."""
    from parity.core.errors import CheckFailed
    from parity.store.objects.store import corrupt_digests
    from parity.workspace import open_workspace

    store = open_workspace().objects
    wanted = list(digests) if digests else list(store.digests())
    corrupt = corrupt_digests(store, wanted)
    if json_output:
        print_json({"checked": len(wanted), "corrupt": [c.digest for c in corrupt]})
    else:
        for problem in corrupt:
            say(f"corrupt: {problem.digest}")
        say(f"checked {len(wanted)} objects, {len(corrupt)} corrupt")
    if corrupt:
        raise CheckFailed(f"{len(corrupt)} corrupt objects")
