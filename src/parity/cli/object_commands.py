"""``parity object``: plumbing over the content-addressed object store (put, get, fsck)."""

from __future__ import annotations

from pathlib import Path

import click

from parity.api import objects
from parity.cli.groups import AliasedGroup
from parity.cli.output import JSON_OPTION, ExistingPath, print_json, say
from parity.core.errors import CheckFailed


@click.group("object", cls=AliasedGroup, aliases={"verify": "fsck"})
def object_group() -> None:
    """Low-level access to the object store."""


@object_group.command("put")
@click.argument("path", type=ExistingPath(dir_okay=False, path_type=Path))
def put(path: Path) -> None:
    """Store a file's content and print its digest."""
    say(objects.put(path))


@object_group.command("get")
@click.argument("digest")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="Where to.")
def get(digest: str, output: Path) -> None:
    """Write an object's verified content to a file."""
    objects.get(digest, output)


@object_group.command("fsck")
@click.argument("digests", nargs=-1)
@JSON_OPTION
def fsck(digests: tuple[str, ...], json_output: bool) -> None:
    """Re-hash objects (default: all); exit 1 if any is corrupt."""
    check = objects.fsck(digests)
    if json_output:
        print_json(check.to_dict())
    else:
        for digest in check.corrupt:
            say(f"corrupt: {digest}")
        say(f"checked {check.checked} objects, {len(check.corrupt)} corrupt")
    if not check.ok:
        raise CheckFailed(f"{len(check.corrupt)} corrupt objects")
