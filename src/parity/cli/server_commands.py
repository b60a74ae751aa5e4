"""``parity server``: run a team server, migrate its database, and manage who may use it.

``start`` and ``migrate`` call ``parity.server.launch`` (the server is an interface beside the
CLI, above ``parity.api``); users, tokens and grants go through ``parity.api.accounts``, against
the served workspace's database, on the server host.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from parity.api import accounts
from parity.cli.groups import AliasedGroup
from parity.cli.output import JSON_OPTION, hint, print_json, print_table, say, warn
from parity.core.errors import UsageError
from parity.server import launch

_ROLES = click.Choice(["reader", "writer", "admin"], case_sensitive=False)


def _when(ms: int | None, never: str = "") -> str:
    if ms is None:
        return never
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")


ADVISORIES_OPTION = click.option(
    "--advisories",
    metavar="PATH",
    type=click.Path(exists=True, path_type=Path),
    envvar="PARITY_ADVISORIES",
    help="OSV advisories (PyPI/all.zip or a folder of OSV JSON files) the environment pages "
    "audit against, offline.",
)


@click.group("server", cls=AliasedGroup)
def server_group() -> None:
    """Run a team server and manage its users, tokens and grants."""


@server_group.command("start")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default)."
)
@click.option(
    "--port", default=8080, show_default=True, type=int, help="Port to listen on (0: any free)."
)
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Worker processes."
)
@click.option(
    "--metadata-url",
    envvar="PARITY_METADATA_URL",
    help="The database served, e.g. postgresql+psycopg://parity@db/parity (default: the "
    "workspace's).",
)
@click.option(
    "--objects-url",
    envvar="PARITY_OBJECTS_URL",
    help="The object store served, e.g. s3://bucket/objects (default: the workspace's).",
)
@click.option(
    "--s3-endpoint-url",
    envvar="PARITY_S3_ENDPOINT_URL",
    help="An S3-compatible endpoint for --objects-url, e.g. http://minio:9000.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A host name clients reach the server by (repeatable), e.g. parity.example.org.",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    metavar="ORIGIN",
    help="A web origin allowed to call the API from a browser (repeatable); none by default.",
)
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    metavar="CIDR",
    help="A network whose requests may name their user in --user-header (repeatable).",
)
@click.option(
    "--user-header",
    metavar="HEADER",
    help="The header a trusted SSO proxy names the user in, e.g. X-Forwarded-User.",
)
@click.option(
    "--secure-cookies",
    is_flag=True,
    help="Always mark the web UI's cookies Secure (behind a TLS proxy that is not a "
    "--trusted-proxy).",
)
@click.option("--access-log", is_flag=True, help="Print one line per request on stdout.")
@ADVISORIES_OPTION
def start(
    host: str,
    port: int,
    workers: int,
    metadata_url: str | None,
    objects_url: str | None,
    s3_endpoint_url: str | None,
    allowed_hosts: tuple[str, ...],
    cors_origins: tuple[str, ...],
    trusted_proxies: tuple[str, ...],
    user_header: str | None,
    secure_cookies: bool,
    access_log: bool,
    advisories: Path | None,
) -> None:
    """Serve this workspace's stores to a team over HTTP (REST API under /api/v1).

    Refuses a database at another schema (run 'parity server migrate'). Until the database has
    a user, it listens on loopback only and every caller on this machine acts as you.
    """
    settings = launch.settings_for(
        host=host,
        port=port,
        metadata_url=metadata_url,
        objects_url=objects_url,
        s3_endpoint_url=s3_endpoint_url,
        allowed_hosts=allowed_hosts,
        cors_origins=cors_origins,
        trusted_proxies=trusted_proxies,
        user_header=user_header,
        secure_cookies=secure_cookies,
        advisories=advisories,
    )
    launch.start(settings, workers=workers, access_log=access_log, on_listening=_listening)


def _listening(listening: launch.Listening) -> None:
    say(f"Parity server for {listening.workspace}")
    say(f"  metadata  {listening.metadata_url}")
    say(f"  objects   {listening.objects_url}")
    if listening.local_user is not None:
        warn(
            f"no users yet: local mode, every caller on this machine acts as admin "
            f"{listening.local_user!r}. Add the first admin with 'parity server user create "
            "NAME --admin' and restart to require tokens."
        )
    if listening.any_host:
        warn(
            "answering any host name: name the ones clients use with --allowed-host NAME, so a "
            "web page whose name points here (DNS rebinding) is refused"
        )
    plural = "es" if listening.workers > 1 else ""
    say(f"listening at {listening.url} ({listening.workers} process{plural}); Ctrl-C stops")
    sys.stdout.flush()


@server_group.command("migrate")
@click.option(
    "--metadata-url",
    envvar="PARITY_METADATA_URL",
    help="The database to migrate (default: the workspace's).",
)
@JSON_OPTION
def migrate(metadata_url: str | None, json_output: bool) -> None:
    """Bring the server's database to this Parity's schema (stop older replicas first)."""
    done = launch.migrate(metadata_url=metadata_url)
    if json_output:
        print_json({"url": done.url, "before": done.before, "after": done.after})
        return
    if done.changed:
        say(f"Migrated {done.url}: schema {','.join(done.after)} (was {','.join(done.before)})")
    else:
        say(f"{done.url} is already at schema {','.join(done.after)}; nothing changed")


# users --------------------------------------------------------------------------------------------
@server_group.group("user", cls=AliasedGroup, aliases={"ls": "list"})
def user_group() -> None:
    """Add and list the server's users; set a user's password."""


@user_group.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="May manage users and tokens, unlock and force.")
@JSON_OPTION
def user_create(name: str, admin: bool, json_output: bool) -> None:
    """Add user NAME and print its first token, once (admin role for an admin, else writer)."""
    token, info = accounts.create_user(name, admin=admin)
    if json_output:
        print_json({"user": name, "admin": admin, "token": token, "info": info})
        return
    kind = "admin user" if admin else "user"
    say(f"Created {kind} {name}. Its {info['role']} token, shown this once:")
    say(token)
    hint("keep it secret; sign in with 'parity login URL', or set PARITY_TOKEN")


@user_group.command("list")
@JSON_OPTION
def user_list(json_output: bool) -> None:
    """List the users."""
    found = accounts.list_users()
    if json_output:
        print_json(found)
        return
    if not found:
        say("No users: add the first admin with 'parity server user create NAME --admin'.")
        return
    print_table(
        ["user", "admin", "created", "disabled"],
        [
            (
                u["name"],
                "yes" if u["admin"] else "",
                _when(u["created_ms"]),
                "yes" if u["disabled"] else "",
            )
            for u in found
        ],
    )


@user_group.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_password(name: str, password_stdin: bool) -> None:
    """Set the password user NAME signs in with (at least 12 characters; stored as argon2id)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            f"Password for {name}", hide_input=True, confirmation_prompt=True, err=True
        )
    accounts.set_password(name, password)
    say(f"Set the password of {name}")


# tokens -------------------------------------------------------------------------------------------
@server_group.group("token", cls=AliasedGroup, aliases={"ls": "list"})
def token_group() -> None:
    """Create, list and revoke API tokens."""


@token_group.command("create")
@click.argument("user")
@click.option("--role", required=True, type=_ROLES, help="What the token may do.")
@click.option("--expires", metavar="DURATION", help="Lifetime, e.g. 90d, 12h (default: none).")
@click.option("--label", help="What the token is for, e.g. 'CI of repo X'.")
@JSON_OPTION
def token_create(
    user: str, role: str, expires: str | None, label: str | None, json_output: bool
) -> None:
    """Create a token for USER with a role, and print it once."""
    token, info = accounts.create_token(user, role=role, expires=expires, label=label)
    if json_output:
        print_json({"token": token, "info": info})
        return
    expiry = _when(info["expires_ms"], never="never")
    say(f"Created token {info['id']} for {user} ({info['role']}, expires {expiry}), shown once:")
    say(token)


@token_group.command("list")
@click.option("--user", help="Only this user's tokens.")
@JSON_OPTION
def token_list(user: str | None, json_output: bool) -> None:
    """List tokens: ids, users, roles and dates (never the tokens themselves)."""
    found = accounts.list_tokens(user=user)
    if json_output:
        print_json(found)
        return
    if not found:
        say("No tokens.")
        return
    print_table(
        ["id", "user", "role", "label", "created", "expires", "last used", "revoked"],
        [_token_row(t) for t in found],
    )


def _token_row(token: dict[str, Any]) -> tuple[str, ...]:
    return (
        token["id"],
        token["user"],
        token["role"],
        token["label"] or "",
        _when(token["created_ms"]),
        _when(token["expires_ms"], never="never"),
        _when(token["last_used_ms"]),
        _when(token["revoked_ms"]),
    )


@token_group.command("revoke")
@click.argument("token_id", metavar="ID")
def token_revoke(token_id: str) -> None:
    """Revoke token ID (see 'token list'): servers refuse it within seconds."""
    accounts.revoke_token(token_id)
    say(f"Revoked token {token_id}")


# grants -------------------------------------------------------------------------------------------
@server_group.command("grant")
@click.argument("user")
@click.option("--model", metavar="NAME", help="The model name the grant is about.")
@click.option("--experiment", metavar="NAME", help="The experiment the grant is about.")
@click.option("--role", required=True, type=_ROLES, help="The role USER gets there.")
def grant(user: str, model: str | None, experiment: str | None, role: str) -> None:
    """Give USER a role on one model name or one experiment, above its token's role there."""
    if (model is None) == (experiment is None):
        raise UsageError(
            "a grant is about one model or one experiment",
            hint="give exactly one of --model NAME or --experiment NAME",
        )
    accounts.grant(user, role=role, model=model, experiment=experiment)
    what = f"model {model}" if model is not None else f"experiment {experiment}"
    say(f"Granted {user} the {role.lower()} role on {what}")


@click.command("ui")
@click.option(
    "--port", default=5010, show_default=True, type=int, help="Port to listen on (0: any free)."
)
@ADVISORIES_OPTION
def ui_command(port: int, advisories: Path | None) -> None:
    """Open the web UI of this workspace on 127.0.0.1 and print its URL.

    The same pages as 'parity server start' serves at /, for this machine only; Ctrl-C stops.
    While the database has no users you are signed in as yourself; with users, sign in as one
    of them.
    """
    settings = launch.settings_for(host="127.0.0.1", port=port, advisories=advisories)
    launch.start(settings, workers=1, on_listening=_ui_listening)


def _ui_listening(listening: launch.Listening) -> None:
    say(f"Parity UI for {listening.workspace}")
    if listening.local_user is None:
        hint("this workspace has users: sign in with a password or a token")
    say(f"open {listening.url}/ in a browser; Ctrl-C stops")
    sys.stdout.flush()
