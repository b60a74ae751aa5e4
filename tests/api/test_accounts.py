"""The accounts door: users, tokens and grants in the served database; login from anywhere."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.accounts.store import Accounts
from parity.api import accounts
from parity.api import workspace as workspaces
from parity.core.errors import AccessDenied, ConflictError, NotFoundError, UsageError
from parity.core.roles import Role, Scope
from parity.store.http.credentials import credentials_path, token_for
from parity.store.meta.migrations import HEADS
from parity.workspace import Workspace, now_ms, open_workspace
from tests.server.live import team_server
from tests.server.unmigrated import stamp_newer_revision, unapply_accounts_migration


@pytest.fixture
def workspace(workspace_dir: Path) -> Iterator[Workspace]:
    with open_workspace(workspace_dir, environ={}) as opened:
        yield opened


def test_the_first_admin_gets_an_admin_token_and_a_user_a_writer_one(
    workspace: Workspace,
) -> None:
    assert accounts.list_users(workspace=workspace) == []
    admin_token, admin = accounts.create_user("ada", admin=True, workspace=workspace)
    user_token, user = accounts.create_user("bob", workspace=workspace)
    assert (admin["user"], admin["role"]) == ("ada", "admin")
    assert (user["user"], user["role"]) == ("bob", "writer")
    found = Accounts(workspace.meta, now_ms)
    ada, bob = found.authenticate(admin_token), found.authenticate(user_token)
    assert ada is not None
    assert ada.role is Role.ADMIN
    assert bob is not None
    assert bob.role is Role.WRITER
    assert [u["name"] for u in accounts.list_users(workspace=workspace)] == ["ada", "bob"]


def test_tokens_are_listed_without_secrets_and_revoked_by_id(workspace: Workspace) -> None:
    accounts.create_user("ci", workspace=workspace)
    token, info = accounts.create_token(
        "ci", role="reader", expires="90d", label="nightly", workspace=workspace
    )
    assert info["role"] == "reader"
    assert info["label"] == "nightly"
    assert 89 * 86_400_000 < info["expires_ms"] - info["created_ms"] <= 90 * 86_400_000
    listed = accounts.list_tokens(user="ci", workspace=workspace)
    assert {t["id"] for t in listed} >= {info["id"]}
    assert token not in str(listed)
    # The secret is all after the id (it may itself hold "_": token_urlsafe's alphabet).
    assert token.split("_", 2)[2] not in str(listed)
    accounts.revoke_token(info["id"], workspace=workspace)
    assert Accounts(workspace.meta, now_ms).authenticate(token) is None
    with pytest.raises(NotFoundError):
        accounts.revoke_token(info["id"], workspace=workspace)
    with pytest.raises(UsageError, match="unknown role"):
        accounts.create_token("ci", role="owner", workspace=workspace)
    with pytest.raises(UsageError, match="duration"):
        accounts.create_token("ci", role="reader", expires="forever", workspace=workspace)


def test_a_grant_names_one_model_or_one_experiment(workspace: Workspace) -> None:
    accounts.create_user("ci", workspace=workspace)
    token, _ = accounts.create_token("ci", role="reader", workspace=workspace)
    accounts.grant("ci", role="writer", model="churn", workspace=workspace)
    accounts.grant("ci", role="admin", experiment="tuning", workspace=workspace)
    principal = Accounts(workspace.meta, now_ms).authenticate(token)
    assert principal is not None
    assert principal.grants == {
        (Scope.MODEL, "churn"): Role.WRITER,
        (Scope.EXPERIMENT, "tuning"): Role.ADMIN,
    }
    for model, experiment in ((None, None), ("churn", "tuning")):
        with pytest.raises(UsageError, match="one model or one experiment"):
            accounts.grant(
                "ci", role="writer", model=model, experiment=experiment, workspace=workspace
            )


def test_a_password_needs_twelve_characters_and_a_user(workspace: Workspace) -> None:
    accounts.create_user("ada", admin=True, workspace=workspace)
    accounts.set_password("ada", "correct horse battery", workspace=workspace)
    assert Accounts(workspace.meta, now_ms).check_password("ada", "correct horse battery")
    with pytest.raises(UsageError, match="12 characters"):
        accounts.set_password("ada", "short", workspace=workspace)
    with pytest.raises(NotFoundError, match="no user 'eve'"):
        accounts.set_password("eve", "correct horse battery", workspace=workspace)


def test_accounts_change_no_schema_and_refuse_one_they_do_not_know(
    workspace: Workspace, workspace_dir: Path
) -> None:
    url = workspace.metadata_url
    unapply_accounts_migration(url)
    with open_workspace(workspace_dir, environ={}) as behind:
        with pytest.raises(ConflictError, match="missing a002") as refused:
            accounts.create_user("ada", admin=True, workspace=behind)
        assert refused.value.hint == "run 'parity server migrate' once, then start the server"
        assert behind.meta_unmigrated.schema_revisions() == sorted(set(HEADS) - {"a002"})
    with open_workspace(workspace_dir, environ={}) as fixed:
        _ = fixed.meta  # an embedded command migrates, as before
    stamp_newer_revision(url)
    with (
        open_workspace(workspace_dir, environ={}) as ahead,
        pytest.raises(ConflictError, match="newer schema"),
    ):
        accounts.list_users(workspace=ahead)


def test_a_workspace_using_a_server_has_no_accounts_of_its_own(workspace_dir: Path) -> None:
    environ = {"PARITY_SERVER_URL": "http://127.0.0.1:9"}
    with (
        open_workspace(workspace_dir, environ=environ) as client,
        pytest.raises(UsageError, match="server's own database") as refused,
    ):
        accounts.list_users(workspace=client)
    assert "server host" in (refused.value.hint or "")


def test_login_checks_the_token_then_keeps_it_for_this_os_user_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with team_server(tmp_path / "served") as server:
        with pytest.raises(AccessDenied, match="unknown, revoked or expired"):
            accounts.login(server.url, server.reader + "x")
        assert not credentials_path().exists()
        who = accounts.login(server.url + "/", f" {server.reader}\n")
        assert who == {
            "url": server.url,
            "user": "admin",
            "role": "reader",
            "credentials": str(credentials_path()),
        }
        assert token_for(server.url) == server.reader
        assert stat.S_IMODE(credentials_path().stat().st_mode) == 0o600
        with pytest.raises(UsageError, match="no token"):
            accounts.login(server.url, "  ")


def test_status_in_team_mode_names_the_server_and_the_user(tmp_path: Path) -> None:
    with team_server(tmp_path / "served") as server:
        environ = {"PARITY_TOKEN": server.writer, "PARITY_SERVER_URL": server.url}
        client_dir = tmp_path / "client"
        client_dir.mkdir()
        workspaces.init(client_dir)[0].close()
        with open_workspace(client_dir, environ=environ) as client:
            report = workspaces.status(workspace=client)
    assert report["server"] == {
        "url": server.url,
        "user": "admin",
        "role": "writer",
        "error": None,
    }
    assert report["metadata"] is None
    assert report["remotes"] == []
    with open_workspace(client_dir, environ=environ) as client:
        gone = workspaces.status(workspace=client)  # the server has stopped
    assert gone["server"]["user"] is None
    assert "cannot reach the Parity server" in gone["server"]["error"]
