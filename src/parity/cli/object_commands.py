"""``parity object``: plumbing over the content-addressed object store (put, get, verify)."""

from __future__ import annotations

from pathlib import Path

import click

from parity.cli.output import JSON_OPTION, print_json, say


@click.group("object")
def object_group() -> None:
    """Low-level access to the object store."""


@object_group.command("put")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def put(path: Path) -> None:
    """Store a file's content and print its digest."""
    from parity.workspace import open_workspace

    say(open_workspace().objects.put_file(path))


@object_group.command("get")
@click.argument("digest")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="Where to.")
def get(digest: str, output: Path) -> None:
    """Write an object's verified content to a file."""
    from parity.workspace import open_workspace

    open_workspace().objects.get_to_file(digest, output)


@object_group.command("verify")
@click.argument("digests", nargs=-1)
@JSON_OPTION
def verify(digests: tuple[str, ...], json_output: bool) -> None:
    """Re-hash objects (default: all); exit 1 if any is corrupt."""
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
