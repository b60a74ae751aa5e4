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
