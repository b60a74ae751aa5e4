"""Users, tokens and grants in the metadata store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from parity.accounts.secrets import decoy_password_check, hash_password, split_token
from parity.accounts.store import Accounts
from parity.core.errors import ConflictError, NotFoundError, UsageError
from parity.core.roles import Role, Scope
from parity.store.meta.store import open_metadata_store


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(database_url: str, clock: Clock) -> Iterator[Accounts]:
    store = open_metadata_store(database_url)
    yield Accounts(store, clock)
    store.close()


def test_there_is_no_user_until_one_is_made(accounts: Accounts) -> None:
    assert not accounts.has_users()
    accounts.create_user("ada", admin=True)
    assert accounts.has_users()
    assert [u["name"] for u in accounts.list_users()] == ["ada"]
    with pytest.raises(ConflictError, match="already exists"):
        accounts.create_user("ada", admin=False)
    with pytest.raises(UsageError, match="invalid user name"):
        accounts.create_user("../ada", admin=False)


def test_a_token_stands_for_its_user_until_it_expires(accounts: Accounts, clock: Clock) -> None:
    accounts.create_user("ci", admin=False)
    token, info = accounts.create_token("ci", Role.READER, lifetime_ms=5_000)
    principal = accounts.authenticate(token)
    assert principal is not None
    assert (principal.user, principal.role, principal.token_id) == ("ci", Role.READER, info.id)
    clock.now += 4_999
    assert accounts.authenticate(token) is not None
    clock.now += 1
    assert accounts.authenticate(token) is None


def test_a_revoked_token_is_refused_and_listed_as_revoked(accounts: Accounts, clock: Clock) -> None:
    accounts.create_user("ci", admin=False)
    token, info = accounts.create_token("ci", Role.WRITER, label="ci")
    accounts.revoke_token(info.id)
    assert accounts.authenticate(token) is None
    (listed,) = accounts.list_tokens("ci")
    assert listed.revoked_ms == clock.now
    assert "secret" not in str(listed.to_dict())
    with pytest.raises(NotFoundError, match="no active token"):
        accounts.revoke_token(info.id)


def test_a_token_with_a_wrong_secret_or_shape_is_refused(accounts: Accounts) -> None:
    accounts.create_user("ci", admin=False)
    token, _ = accounts.create_token("ci", Role.WRITER)
    token_id, secret = split_token(token) or ("", "")
    assert accounts.authenticate(f"pty_{token_id}_{secret[:-1]}x") is None
    assert accounts.authenticate("Bearer nonsense") is None
    assert accounts.authenticate("pty_short_secret") is None


def test_only_an_admin_holds_an_admin_token(accounts: Accounts) -> None:
    accounts.create_user("ci", admin=False)
    with pytest.raises(UsageError, match="not an admin"):
        accounts.create_token("ci", Role.ADMIN)
    with pytest.raises(NotFoundError, match="no user 'nobody'"):
        accounts.create_token("nobody", Role.READER)


def test_a_password_is_argon2id_and_signs_in_with_the_account_s_role(
    accounts: Accounts,
) -> None:
    accounts.create_user("ada", admin=True)
    accounts.create_user("bob", admin=False)
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    accounts.set_password("ada", hashed)
    accounts.set_password("bob", hash_password("another long secret"))
    ada = accounts.check_password("ada", "correct horse battery")
    bob = accounts.check_password("bob", "another long secret")
    assert ada is not None
    assert ada.role is Role.ADMIN
    assert bob is not None
    assert bob.role is Role.WRITER
    assert accounts.check_password("ada", "wrong horse battery") is None
    assert accounts.check_password("nobody", "correct horse battery") is None
    assert decoy_password_check("anything") is False
    with pytest.raises(UsageError, match="12 characters"):
        hash_password("short")


def test_a_grant_raises_the_role_on_its_scope_only(accounts: Accounts) -> None:
    accounts.create_user("ci", admin=False)
    token, _ = accounts.create_token("ci", Role.READER)
    accounts.grant("ci", Scope.MODEL, "churn", Role.WRITER)
    principal = accounts.authenticate(token)
    assert principal is not None
    assert principal.may(Role.WRITER, (Scope.MODEL, "churn"))
    assert not principal.may(Role.WRITER, (Scope.MODEL, "fraud"))
    assert not principal.may(Role.WRITER, (Scope.EXPERIMENT, "churn"))
    assert not principal.may(Role.WRITER)
    with pytest.raises(NotFoundError):
        accounts.grant("nobody", Scope.MODEL, "churn", Role.WRITER)


def test_a_session_never_outlives_the_token_it_was_signed_in_with(
    accounts: Accounts, clock: Clock
) -> None:
    accounts.create_user("bob", admin=False)
    _, short = accounts.create_token("bob", Role.WRITER, lifetime_ms=60_000)
    session, expires = accounts.create_session("bob", Role.WRITER, short.id, 12 * 3600_000)
    assert expires == short.expires_ms
    clock.now += 60_000
    assert accounts.authenticate(session) is None


def test_revoking_a_token_ends_the_sessions_signed_in_with_it_and_only_those(
    accounts: Accounts,
) -> None:
    accounts.create_user("bob", admin=False)
    token, info = accounts.create_token("bob", Role.READER)
    other, _ = accounts.create_token("bob", Role.READER)
    session, _ = accounts.create_session("bob", Role.READER, info.id, 12 * 3600_000)
    kept = accounts.create_session("bob", Role.READER, None, 12 * 3600_000)[0]
    accounts.revoke_token(info.id)
    assert accounts.authenticate(token) is None
    assert accounts.authenticate(session) is None
    assert accounts.authenticate(other) is not None
    assert accounts.authenticate(kept) is not None


def test_a_session_signed_in_with_a_session_keeps_its_parent_and_its_expiry(
    accounts: Accounts, clock: Clock
) -> None:
    accounts.create_user("bob", admin=False)
    _, parent = accounts.create_token("bob", Role.READER)
    first, first_expiry = accounts.create_session("bob", Role.READER, parent.id, 12 * 3600_000)
    first_id = split_token(first)
    assert first_id is not None
    clock.now += 11 * 3600_000
    second, second_expiry = accounts.create_session("bob", Role.READER, first_id[0], 12 * 3600_000)
    assert second_expiry == first_expiry  # not renewed by signing in with itself
    clock.now += 3600_000
    assert accounts.authenticate(second) is None
    clock.now -= 3600_000
    accounts.revoke_token(parent.id)  # the original token's revocation reaches the second too
    assert accounts.authenticate(second) is None


def test_a_password_change_ends_the_user_s_sessions_but_not_their_tokens(
    accounts: Accounts,
) -> None:
    accounts.create_user("ada", admin=True, password_hash=hash_password("x" * 12))
    accounts.create_user("bob", admin=False)
    token, info = accounts.create_token("ada", Role.ADMIN)
    by_password = accounts.create_session("ada", Role.ADMIN, None, 3600_000)[0]
    by_token = accounts.create_session("ada", Role.ADMIN, info.id, 3600_000)[0]
    bobs = accounts.create_session("bob", Role.WRITER, None, 3600_000)[0]
    accounts.set_password("ada", hash_password("y" * 12))
    assert accounts.authenticate(by_password) is None
    assert accounts.authenticate(by_token) is None
    assert accounts.authenticate(token) is not None
    assert accounts.authenticate(bobs) is not None
