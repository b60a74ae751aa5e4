"""Users, tokens and grants in the metadata store."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from parity.accounts.secrets import (
    decoy_password_check,
    new_token,
    password_matches,
    secret_matches,
    split_token,
)
from parity.core.errors import ConflictError, NotFoundError, UsageError
from parity.core.roles import Principal, Role, Scope
from parity.store.meta.account_tables import grants, tokens, users
from parity.store.meta.store import MetadataStore

# A user name: what the API's path and body patterns also require.
USER_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$"
_NAME = re.compile(USER_NAME_PATTERN)
# A token used again within this many milliseconds does not rewrite its last-used time.
_LAST_USED_GRANULARITY_MS = 60_000


@dataclass(frozen=True)
class TokenInfo:
    id: str
    user: str
    role: Role
    label: str | None
    created_ms: int
    expires_ms: int | None
    revoked_ms: int | None
    last_used_ms: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "role": self.role.label,
            "label": self.label,
            "created_ms": self.created_ms,
            "expires_ms": self.expires_ms,
            "revoked_ms": self.revoked_ms,
            "last_used_ms": self.last_used_ms,
        }


def check_user_name(name: str) -> None:
    if not _NAME.match(name):
        raise UsageError(
            f"invalid user name {name!r}",
            hint="use letters, digits and . _ @ - (at most 200 characters)",
        )


class Accounts:
    def __init__(self, meta: MetadataStore, clock: Callable[[], int]) -> None:
        self.meta = meta
        self.clock = clock

    # users ---------------------------------------------------------------------------------------
    def has_users(self) -> bool:
        with self.meta.read() as connection:
            return connection.execute(select(users.c.name).limit(1)).first() is not None

    def create_user(self, name: str, admin: bool, password_hash: str | None = None) -> None:
        check_user_name(name)

        def act(connection: Connection) -> None:
            if connection.execute(select(users.c.name).where(users.c.name == name)).first():
                raise ConflictError(f"user {name!r} already exists", hint="pick another name")
            connection.execute(
                insert(users).values(
                    name=name, admin=admin, password_hash=password_hash, created_ms=self.clock()
                )
            )

        self.meta.transact(act)

    def list_users(self) -> list[dict[str, Any]]:
        with self.meta.read() as connection:
            rows = connection.execute(select(users).order_by(users.c.name)).mappings()
            return [
                {
                    "name": row["name"],
                    "admin": bool(row["admin"]),
                    "created_ms": row["created_ms"],
                    "disabled": row["disabled_ms"] is not None,
                }
                for row in rows
            ]

    def set_password(self, name: str, password_hash: str) -> None:
        """Set a user's password and end the user's web UI sessions: whoever signed in before
        the change (perhaps with the old password) signs in again."""
        now = self.clock()

        def act(connection: Connection) -> None:
            done = connection.execute(
                update(users).where(users.c.name == name).values(password_hash=password_hash)
            )
            if not done.rowcount:
                raise NotFoundError(f"no user {name!r}", hint="see 'parity server user list'")
            connection.execute(
                update(tokens)
                .where(tokens.c.user == name, tokens.c.session, tokens.c.revoked_ms.is_(None))
                .values(revoked_ms=now)
            )

        self.meta.transact(act)

    def check_password(self, name: str, password: str) -> Principal | None:
        with self.meta.read() as connection:
            row = connection.execute(
                select(users).where(users.c.name == name, users.c.disabled_ms.is_(None))
            ).first()
        if row is None or row.password_hash is None:
            decoy_password_check(password)
            return None
        if not password_matches(password, row.password_hash):
            return None
        return self._principal(name, Role.ADMIN if row.admin else Role.WRITER, None)

    def grant(self, user: str, scope: Scope, name: str, role: Role) -> None:
        def act(connection: Connection) -> None:
            self._require_user(connection, user)
            connection.execute(
                delete(grants).where(
                    grants.c.user == user, grants.c.scope == scope.value, grants.c.name == name
                )
            )
            connection.execute(
                insert(grants).values(user=user, scope=scope.value, name=name, role=int(role))
            )

        self.meta.transact(act)

    # tokens --------------------------------------------------------------------------------------
    def create_token(
        self, user: str, role: Role, label: str | None = None, lifetime_ms: int | None = None
    ) -> tuple[str, TokenInfo]:
        """A new token for ``user``: (the token, shown once; its stored description).

        ``lifetime_ms`` counts from the token's own creation time, so its expiry is exactly that
        long after ``created_ms``; None: it never expires.
        """
        token, token_id, secret_hash = new_token()
        created = self.clock()
        expires_ms = None if lifetime_ms is None else created + lifetime_ms

        def act(connection: Connection) -> None:
            row = self._require_user(connection, user)
            if role is Role.ADMIN and not row.admin:
                raise UsageError(
                    f"user {user!r} is not an admin, so cannot hold an admin token",
                    hint="give it --role writer or reader",
                )
            connection.execute(
                insert(tokens).values(
                    id=token_id,
                    user=user,
                    secret_hash=secret_hash,
                    role=int(role),
                    label=label,
                    created_ms=created,
                    expires_ms=expires_ms,
                )
            )

        self.meta.transact(act)
        info = TokenInfo(token_id, user, role, label, created, expires_ms, None, None)
        return token, info

    def create_session(
        self,
        user: str,
        role: Role,
        signed_in_with: str | None,
        lifetime_ms: int,
        label: str = "web UI session",
    ) -> tuple[str, int]:
        """A web UI session token: (the token, its expiry in ms since the epoch).

        ``signed_in_with`` is the id of the token the user signed in with (None: a password).
        The session never outlives that token, and a session signed in with another session
        belongs to the same original token and keeps its expiry: a session cannot renew itself.
        Revoking the original token revokes its sessions (``revoke_token``).
        """
        token, token_id, secret_hash = new_token()
        created = self.clock()
        expires = created + lifetime_ms

        def act(connection: Connection) -> int:
            parent = None
            if signed_in_with is not None:
                used = connection.execute(
                    select(tokens).where(tokens.c.id == signed_in_with)
                ).first()
                if used is None or used.revoked_ms is not None:
                    raise NotFoundError(f"no active token {signed_in_with!r}")
                parent = used.parent_id if used.session else used.id
                ends = [used.expires_ms]
                if used.session and parent is not None:
                    ends.append(
                        connection.execute(
                            select(tokens.c.expires_ms).where(tokens.c.id == parent)
                        ).scalar()
                    )
                expiry = int(min([expires, *(end for end in ends if end is not None)]))
            else:
                expiry = expires
            connection.execute(
                insert(tokens).values(
                    id=token_id,
                    user=user,
                    secret_hash=secret_hash,
                    role=int(role),
                    label=label,
                    created_ms=created,
                    expires_ms=expiry,
                    parent_id=parent,
                    session=True,
                )
            )
            return expiry

        return token, self.meta.transact(act)

    def list_tokens(self, user: str | None = None) -> list[TokenInfo]:
        query = select(tokens).order_by(tokens.c.user, tokens.c.created_ms)
        if user is not None:
            query = query.where(tokens.c.user == user)
        with self.meta.read() as connection:
            return [
                TokenInfo(
                    row.id,
                    row.user,
                    Role(row.role),
                    row.label,
                    row.created_ms,
                    row.expires_ms,
                    row.revoked_ms,
                    row.last_used_ms,
                )
                for row in connection.execute(query)
            ]

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token and the web UI sessions signed in with it."""
        now = self.clock()

        def act(connection: Connection) -> None:
            done = connection.execute(
                update(tokens)
                .where(tokens.c.id == token_id, tokens.c.revoked_ms.is_(None))
                .values(revoked_ms=now)
            )
            if not done.rowcount:
                raise NotFoundError(
                    f"no active token {token_id!r}", hint="see 'parity server token list'"
                )
            connection.execute(
                update(tokens)
                .where(tokens.c.parent_id == token_id, tokens.c.revoked_ms.is_(None))
                .values(revoked_ms=now)
            )

        self.meta.transact(act)

    def authenticate(self, token: str) -> Principal | None:
        """The caller a token stands for, or None when it is unknown, revoked or expired."""
        parts = split_token(token)
        if parts is None:
            return None
        token_id, secret = parts
        now = self.clock()
        with self.meta.read() as connection:
            row = connection.execute(
                select(tokens, users.c.admin)
                .join(users, users.c.name == tokens.c.user)
                .where(
                    tokens.c.id == token_id,
                    tokens.c.revoked_ms.is_(None),
                    users.c.disabled_ms.is_(None),
                )
            ).first()
        if row is None or not secret_matches(secret, row.secret_hash):
            return None
        if row.expires_ms is not None and row.expires_ms <= now:
            return None
        role = Role(row.role) if row.admin or row.role < Role.ADMIN else Role.WRITER
        if row.last_used_ms is None or now - row.last_used_ms > _LAST_USED_GRANULARITY_MS:
            with self.meta.write() as connection:
                connection.execute(
                    update(tokens).where(tokens.c.id == token_id).values(last_used_ms=now)
                )
        return self._principal(row.user, role, token_id)

    def principal_of(self, user: str) -> Principal | None:
        """The caller named by a trusted proxy: an existing, enabled user, with their account's
        role (admin, else writer)."""
        with self.meta.read() as connection:
            row = connection.execute(
                select(users).where(users.c.name == user, users.c.disabled_ms.is_(None))
            ).first()
        if row is None:
            return None
        return self._principal(user, Role.ADMIN if row.admin else Role.WRITER, None)

    def _principal(self, user: str, role: Role, token_id: str | None) -> Principal:
        with self.meta.read() as connection:
            rows = connection.execute(
                select(grants.c.scope, grants.c.name, grants.c.role).where(grants.c.user == user)
            )
            granted = {(Scope(scope), name): Role(level) for scope, name, level in rows}
        return Principal(user=user, role=role, grants=granted, token_id=token_id)

    @staticmethod
    def _require_user(connection: Connection, user: str) -> Any:
        row = connection.execute(select(users).where(users.c.name == user)).first()
        if row is None:
            raise NotFoundError(f"no user {user!r}", hint="see 'parity server user list'")
        return row
