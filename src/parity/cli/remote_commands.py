"""``parity remote``: name the object stores data is pushed to and pulled from."""

from __future__ import annotations

import click

from parity.api import remotes
from parity.cli.groups import AliasedGroup
from parity.cli.output import JSON_OPTION, print_json, print_table, say


@click.group("remote", cls=AliasedGroup, aliases={"ls": "list", "remove": "delete", "rm": "delete"})
def remote_group() -> None:
    """Add, list and delete data remotes (s3://, file:// or a folder)."""


@remote_group.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--endpoint-url", help="An S3-compatible endpoint, e.g. http://127.0.0.1:9000.")
@click.option("--region", help="The S3 region (default us-east-1).")
@click.option("--default", "make_default", is_flag=True, help="Push and pull here by default.")
def add(
    name: str, url: str, endpoint_url: str | None, region: str | None, make_default: bool
) -> None:
    """Add remote NAME at URL: s3://BUCKET/PREFIX, file:///PATH, a folder or https://SERVER."""
    remote = remotes.add(
        name, url, endpoint_url=endpoint_url, region=region, make_default=make_default
    )
    shown = next(r for r in remotes.list() if r["name"] == name)
    default = " (default)" if shown["default"] else ""
    say(f"Added remote {remote.name} at {shown['url']}{default}")


@remote_group.command("list")
@JSON_OPTION
def list_(json_output: bool) -> None:
    """List the remotes."""
    found = remotes.list()
    if json_output:
        print_json(found)
        return
    if not found:
        say("No remotes. Add one with 'parity remote add NAME URL'.")
        return
    print_table(
        ["remote", "url", "endpoint", "default"],
        [(r["name"], r["url"], r["endpoint_url"], "yes" if r["default"] else "") for r in found],
    )


@remote_group.command("delete")
@click.argument("name")
def delete(name: str) -> None:
    """Delete remote NAME from the configuration (its data stays where it is)."""
    remotes.delete(name)
    say(f"Deleted remote {name}")
