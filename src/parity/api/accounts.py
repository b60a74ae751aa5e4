"""Who may use a Parity server: its users, tokens and grants, and signing in to one.

``parity server user|token|grant`` and ``parity login`` call these.

>>> from parity.api import accounts
>>> token, info = accounts.create_user("ada", admin=True)                  # doctest: +SKIP
>>> token, info = accounts.create_token("ci", role="writer", expires="90d")  # doctest: +SKIP
>>> accounts.login("https://parity.example.org", token)                    # doctest: +SKIP
{'url': 'https://parity.example.org', 'user': 'ci', 'role': 'writer', ...}

Users, tokens and grants live in the metadata database a server serves, so every call but
``login`` runs on the server host, against that workspace (``PARITY_METADATA_URL`` names another
database). A token is shown once, when it is made; only its hash is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from parity.accounts.secrets import hash_password
from parity.accounts.store import Accounts
from parity.api._session import session
from parity.core.config import masked_url
from parity.core.durations import parse_duration
from parity.core.errors import UsageError
from parity.core.roles import Role, Scope
from parity.store.http.client import ServerClient
from parity.store.http.credentials import save_token
from parity.workspace import Workspace, now_ms

__all__ = [
    "create_token",
    "create_user",
    "grant",
    "list_tokens",
    "list_users",
    "login",
    "revoke_token",
    "set_password",
]


@contextmanager
def _accounts(workspace: Workspace | None) -> Iterator[Accounts]:
    """The accounts in the workspace's own database, refused when its schema is not this
    Parity's: only 'parity server migrate' changes a server's schema."""
    with session(workspace) as ws:
        if ws.server_url is not None:
            raise UsageError(
                "accounts live in the server's own database, and this workspace uses the "
                f"server {masked_url(ws.server_url)}",
                hint="run it on the server host, in the served workspace, without "
                "PARITY_SERVER_URL",
            )
        ws.meta_unmigrated.check_schema()
        yield Accounts(ws.meta_unmigrated, now_ms)


def create_user(
    name: str, *, admin: bool = False, workspace: Workspace | None = None
) -> tuple[str, dict[str, Any]]:
    """Add user ``name`` and return a first token for it (shown once) and its description.

    >>> token, info = accounts.create_user("ada", admin=True)   # doctest: +SKIP

    The token carries the admin role for an admin, else the writer role. There is no default
    account: the first admin is made this way, on the server host.
    """
    with _accounts(workspace) as accounts:
        accounts.create_user(name, admin=admin)
        role = Role.ADMIN if admin else Role.WRITER
        token, info = accounts.create_token(name, role, label="first token")
        return token, info.to_dict()


def list_users(*, workspace: Workspace | None = None) -> list[dict[str, Any]]:
    """The users, by name: whether each is an admin, when it was made, whether it is disabled."""
    with _accounts(workspace) as accounts:
        return accounts.list_users()


def set_password(name: str, password: str, *, workspace: Workspace | None = None) -> None:
    """Set the password user ``name`` signs in with, stored as an argon2id hash.

    At least 12 characters; it buys short-lived tokens at ``POST /api/v1/login``."""
    hashed = hash_password(password)
    with _accounts(workspace) as accounts:
        accounts.set_password(name, hashed)


def create_token(
    user: str,
    *,
    role: str,
    expires: str | None = None,
    label: str | None = None,
    workspace: Workspace | None = None,
) -> tuple[str, dict[str, Any]]:
    """A new token for ``user`` with ``role``: the token (shown once) and its description.

    ``role`` is reader, writer or admin.

    >>> token, _ = accounts.create_token("ci", role="writer", expires="90d")  # doctest: +SKIP

    ``expires`` is a duration (``30m``, ``12h``, ``90d``, ``2w``); None: it never expires.
    Only an admin user may hold an admin token.
    """
    level = Role.parse(role)
    lifetime = None if expires is None else parse_duration(expires)
    with _accounts(workspace) as accounts:
        token, info = accounts.create_token(user, level, label=label, lifetime_ms=lifetime)
        return token, info.to_dict()


def list_tokens(
    *, user: str | None = None, workspace: Workspace | None = None
) -> list[dict[str, Any]]:
    """Every token, or ``user``'s: ids, roles, labels and dates, never the token itself.

    Each says when it was made, expires, was revoked and was last used."""
    with _accounts(workspace) as accounts:
        return [info.to_dict() for info in accounts.list_tokens(user)]


def revoke_token(token_id: str, *, workspace: Workspace | None = None) -> None:
    """Revoke the token whose id is ``token_id``: a server refuses it within seconds."""
    with _accounts(workspace) as accounts:
        accounts.revoke_token(token_id)


def grant(
    user: str,
    *,
    role: str,
    model: str | None = None,
    experiment: str | None = None,
    workspace: Workspace | None = None,
) -> None:
    """Give ``user`` ``role`` on one model name or one experiment, above its token's role there.

    >>> accounts.grant("ci", model="churn", role="writer")   # doctest: +SKIP
    """
    if (model is None) == (experiment is None):
        raise UsageError(
            "a grant is about one model or one experiment",
            hint="give exactly one of --model NAME or --experiment NAME",
        )
    scope, name = (Scope.MODEL, model) if model is not None else (Scope.EXPERIMENT, experiment)
    assert name is not None
    if not name.strip() or len(name) > 200:
        raise UsageError(f"invalid {scope.value} name {name!r}", hint="give the name it has")
    level = Role.parse(role)
    with _accounts(workspace) as accounts:
        accounts.grant(user, scope, name, level)


def login(url: str, token: str) -> dict[str, Any]:
    """Check ``token`` with the server at ``url`` and remember it for this OS user.

    >>> accounts.login("https://parity.example.org", token)   # doctest: +SKIP

    The token goes to ``~/.config/parity/credentials.toml`` (mode 0600), never into a
    workspace; returns the URL, the user and role the server knows the token as, and that file.
    """
    token = token.strip()
    if not token:
        raise UsageError("no token given", hint="ask an admin for one: parity server token create")
    with ServerClient(url, token, attempts=2) as client:
        identity = client.get("/whoami")
        saved = save_token(client.url, token)
        return {
            "url": client.url,
            "user": str(identity["user"]),
            "role": str(identity["role"]),
            "credentials": str(saved),
        }
