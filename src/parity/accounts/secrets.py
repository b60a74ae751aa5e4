"""Token secrets and password hashes: made here, compared here, never stored in the clear.

A token is ``pty_<id>_<secret>``: the id (public, shown in listings) finds the row, the 256-bit
secret is compared against its SHA-256. A fast hash suits a random 256-bit secret (nothing to
guess); passwords, which people choose, get argon2id.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from parity.core.errors import UsageError

TOKEN_PREFIX = "pty_"  # noqa: S105 (a marker, not a secret)
_ID_BYTES = 8
_SECRET_BYTES = 32  # 256 bits


def new_token() -> tuple[str, str, str]:
    """A fresh token as (token, id, secret hash): the token is shown once, the rest is stored."""
    token_id = secrets.token_hex(_ID_BYTES)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    return f"{TOKEN_PREFIX}{token_id}_{secret}", token_id, hash_secret(secret)


def split_token(token: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed token, None for anything else."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    token_id, sep, secret = token[len(TOKEN_PREFIX) :].partition("_")
    if not sep or len(token_id) != 2 * _ID_BYTES or not secret or len(secret) > 128:
        return None
    return token_id, secret


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher  # lazy: argon2 loads only where passwords are set

    if len(password) < 12:
        raise UsageError("a password needs at least 12 characters", hint="choose a longer one")
    return PasswordHasher().hash(password)


def password_matches(password: str, stored_hash: str) -> bool:
    from argon2 import PasswordHasher  # lazy: argon2 loads only where passwords are checked
    from argon2.exceptions import (
        InvalidHashError,
        VerificationError,
    )  # lazy: argon2 loads only where passwords are checked

    try:
        return PasswordHasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _decoy_hash() -> str:
    from argon2 import PasswordHasher  # lazy: argon2 loads only where passwords are checked

    return PasswordHasher().hash(secrets.token_urlsafe(_SECRET_BYTES))


def decoy_password_check(password: str) -> bool:
    """Spend the time a real check takes, for a user who does not exist or has no password,
    so the answer's timing does not tell which user names exist. Always False."""
    password_matches(password, _decoy_hash())
    return False
