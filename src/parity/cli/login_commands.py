"""``parity login``: remember a token for a Parity server, after the server accepts it."""

from __future__ import annotations

import sys

import click

from parity.api import accounts
from parity.cli.output import JSON_OPTION, hint, print_json, say


@click.command()
@click.argument("url")
@click.option("--token-stdin", is_flag=True, help="Read the token from standard input.")
@JSON_OPTION
def login(url: str, token_stdin: bool, json_output: bool) -> None:
    """Sign in to the Parity server at URL with a token; it is kept in your config folder.

    The token is checked with the server first, then saved with mode 0600 in
    ~/.config/parity/credentials.toml (never in the workspace). Ask an admin for one
    ('parity server token create').
    """
    if token_stdin:
        token = sys.stdin.readline()
    else:
        token = click.prompt("Token", hide_input=True, err=True)
    who = accounts.login(url, token)
    if json_output:
        print_json(who)
        return
    say(f"Signed in to {who['url']} as {who['user']} ({who['role']})")
    hint(
        f"a workspace uses this server once its .parity/config.toml says server_url = "
        f'"{who["url"]}" under [core], or with PARITY_SERVER_URL={who["url"]}'
    )
