"""``parity server``: start (real processes, real sockets), migrate, and the account commands,
each through the real ``parity`` command."""

from __future__ import annotations

import getpass
import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from parity.cli.main import main
from parity.store.meta.migrations import HEADS
from parity.workspace import open_workspace
from tests.conftest import run_parity
from tests.server.live import team_server
from tests.server.unmigrated import stamp_newer_revision, unapply_accounts_migration

ALL_HEADS = sorted(HEADS)


def _environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    env.update(extra or {})
    return env


def _children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = command
    return found


@contextmanager
def server_process(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    """``parity server start --port 0 ARGS`` until the block ends: the process, its URL and
    what it printed up to the URL line."""
    with subprocess.Popen(
        [sys.executable, "-m", "parity", "server", "start", "--port", "0", *args],
        cwd=cwd,
        env=_environment(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        try:
            url, printed = _listening_line(process, lines)
            _wait_healthy(url)
            yield process, url, printed
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def _listening_line(
    process: subprocess.Popen[str], lines: queue.Queue[str | None]
) -> tuple[str, str]:
    printed = ""
    deadline = time.monotonic() + 60
    while True:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        if line is None:
            assert process.stderr is not None
            error = process.stderr.read()
            raise AssertionError(f"the server stopped ({process.wait()}): {error}")
        printed += line
        if line.startswith("listening at "):
            return line.split()[2], printed


def _wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer within 60 s"
        time.sleep(0.1)


def test_start_serves_with_two_workers_in_local_mode_until_stopped(workspace_dir: Path) -> None:
    with server_process("--workers", "2", cwd=workspace_dir) as (process, url, printed):
        assert url.startswith("http://127.0.0.1:")
        assert f"listening at {url} (2 processes); Ctrl-C stops" in printed
        assert f"Parity server for {workspace_dir}" in printed
        health = httpx.get(f"{url}/api/v1/health").json()
        assert health["status"] == "ok"
        # no users: every caller on this machine acts as the OS user, an admin
        assert httpx.get(f"{url}/api/v1/whoami").json() == {
            "user": getpass.getuser(),
            "role": "admin",
        }
        workers = [pid for pid, cmd in _children(process.pid).items() if "spawn_main" in cmd]
        assert len(workers) == 2, _children(process.pid)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert process.stderr is not None
        assert "no users yet: local mode" in process.stderr.read()
    for pid in workers:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )


def test_start_refuses_another_host_until_there_is_a_user(workspace_dir: Path) -> None:
    refused = run_parity("server", "start", "--host", "0.0.0.0", "--port", "0", cwd=workspace_dir)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("error: refusing to listen on 0.0.0.0: this server has no")
    assert "'parity server user create NAME --admin'" in refused.stderr


def test_a_database_a_migration_behind_is_refused_until_migrated(workspace_dir: Path) -> None:
    url = f"sqlite:///{workspace_dir / '.parity' / 'parity.db'}"
    unapply_accounts_migration(url)
    refused = run_parity("server", "start", "--port", "0", cwd=workspace_dir)
    assert refused.returncode == 4
    assert refused.stderr == (
        f"error: the database at {url} is not at this Parity's schema (missing a002) "
        "(run 'parity server migrate' once, then start the server)\n"
    )
    migrated = run_parity("server", "migrate", cwd=workspace_dir)
    assert migrated.returncode == 0, migrated.stderr
    before = ",".join(sorted(set(HEADS) - {"a002"}))
    assert migrated.stdout == f"Migrated {url}: schema {','.join(ALL_HEADS)} (was {before})\n"
    again = run_parity("server", "migrate", "--json", cwd=workspace_dir)
    assert json.loads(again.stdout)["before"] == ALL_HEADS
    with server_process(cwd=workspace_dir) as (_, served, printed):
        assert "(1 process)" in printed
        assert httpx.get(f"{served}/api/v1/health").status_code == 200


def test_a_database_of_a_newer_parity_is_refused_and_not_migrated(workspace_dir: Path) -> None:
    url = f"sqlite:///{workspace_dir / '.parity' / 'parity.db'}"
    stamp_newer_revision(url)
    for command in (("server", "start", "--port", "0"), ("server", "migrate")):
        refused = run_parity(*command, cwd=workspace_dir)
        assert refused.returncode == 4, refused.stderr
        assert "newer" in refused.stderr
        assert "upgrade Parity" in refused.stderr


def test_migrate_takes_a_database_url_without_a_workspace(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    done = run_parity("server", "migrate", "--metadata-url", url, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "url": url,
        "before": [],
        "after": ALL_HEADS,
    }


def cli(capfd: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``parity ARGS`` in this process (the account commands need no server process)."""
    code = main(list(args))
    out, err = capfd.readouterr()
    return code, out, err


@pytest.fixture
def inside(workspace_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(workspace_dir)
    return workspace_dir


def test_there_is_no_default_account_and_the_first_admin_gets_a_token_once(
    inside: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert cli(capfd, "server", "user", "list")[1].startswith("No users: add the first admin")
    code, out, err = cli(capfd, "server", "user", "create", "ada", "--admin")
    assert code == 0, err
    first_line, token = out.splitlines()
    assert first_line == "Created admin user ada. Its admin token, shown this once:"
    assert token.startswith("pty_")
    assert "parity login URL" in err
    code, _, err = cli(capfd, "server", "user", "create", "ada")
    assert code == 4
    assert "already exists" in err
    code, out, _ = cli(capfd, "server", "user", "create", "bob", "--json")
    made = json.loads(out)
    assert (made["user"], made["admin"], made["info"]["role"]) == ("bob", False, "writer")
    users = json.loads(cli(capfd, "server", "user", "list", "--json")[1])
    assert [(u["name"], u["admin"]) for u in users] == [("ada", True), ("bob", False)]
    assert token not in cli(capfd, "server", "token", "list")[1]


def test_tokens_are_made_with_a_role_listed_without_secrets_and_revoked(
    inside: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    cli(capfd, "server", "user", "create", "ada", "--admin")
    cli(capfd, "server", "user", "create", "bob")
    code, out, err = cli(
        capfd,
        "server",
        "token",
        "create",
        "ada",
        "--role",
        "reader",
        "--expires",
        "1d",
        "--label",
        "ci",
        "--json",
    )
    assert code == 0, err
    reader = json.loads(out)
    assert (reader["info"]["role"], reader["info"]["label"]) == ("reader", "ci")
    code, _, err = cli(capfd, "server", "token", "create", "bob", "--role", "admin")
    assert code == 2
    assert "not an admin" in err
    code, _, err = cli(capfd, "server", "token", "create", "bob", "--role", "owner")
    assert code == 2
    assert "'owner' is not one of" in err
    code, _, err = cli(
        capfd, "server", "token", "create", "bob", "--role", "reader", "--expires", "soon"
    )
    assert code == 2
    assert "duration" in err
    listed = cli(capfd, "server", "token", "list", "--json")[1]
    assert sorted(t["user"] for t in json.loads(listed)) == ["ada", "ada", "bob"]
    assert reader["token"] not in listed
    assert reader["info"]["id"] in cli(capfd, "server", "token", "list", "--user", "ada")[1]
    with team_server(inside) as server:
        bearer = {"Authorization": f"Bearer {reader['token']}"}
        who = httpx.get(f"{server.url}/api/v1/whoami", headers=bearer)
        assert who.json() == {"user": "ada", "role": "reader"}
        code, out, _ = cli(capfd, "server", "token", "revoke", reader["info"]["id"])
        assert out == f"Revoked token {reader['info']['id']}\n"
        time.sleep(2.1)  # a server keeps a token it checked for 2 s
        assert httpx.get(f"{server.url}/api/v1/whoami", headers=bearer).status_code == 401
    assert cli(capfd, "server", "token", "revoke", "0123456789abcdef")[0] == 3


def test_a_grant_and_a_password_from_the_command_line(
    inside: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli(capfd, "server", "user", "create", "bob")
    code, out, _ = cli(capfd, "server", "grant", "bob", "--model", "churn", "--role", "admin")
    assert out == "Granted bob the admin role on model churn\n"
    code, _, err = cli(capfd, "server", "grant", "bob", "--role", "writer")
    assert code == 2
    assert "exactly one of --model NAME or --experiment NAME" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = cli(capfd, "server", "user", "password", "bob", "--password-stdin")
    assert code == 2
    assert "12 characters" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert cli(capfd, "server", "user", "password", "bob", "--password-stdin")[0] == 0
    with team_server(inside) as server:
        signed_in = httpx.post(
            f"{server.url}/api/v1/login", json={"user": "bob", "password": "correct horse battery"}
        )
    assert signed_in.json()["role"] == "writer"


def test_account_commands_refuse_a_workspace_that_uses_a_server(workspace_dir: Path) -> None:
    refused = run_parity(
        "server", "user", "list", cwd=workspace_dir, env={"PARITY_SERVER_URL": "http://127.0.0.1:9"}
    )
    assert refused.returncode == 2
    assert "accounts live in the server's own database" in refused.stderr


def test_two_workers_serve_postgresql_and_s3_after_an_explicit_migrate(
    tmp_path: Path, postgres_url: str, s3_bucket: str, s3_endpoint: str
) -> None:
    workspace = tmp_path / "server-host"
    workspace.mkdir()
    assert run_parity("init", cwd=workspace).returncode == 0
    aws = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    stores = {
        "PARITY_METADATA_URL": postgres_url,
        "PARITY_OBJECTS_URL": s3_bucket,
        "PARITY_S3_ENDPOINT_URL": s3_endpoint,
        **aws,
    }
    # a fresh database: no schema until migrate makes it
    refused = run_parity("server", "start", "--port", "0", cwd=workspace, env=stores)
    assert refused.returncode == 4, refused.stderr
    assert "parity server migrate" in refused.stderr
    migrated = run_parity("server", "migrate", "--json", cwd=workspace, env=stores)
    assert json.loads(migrated.stdout)["after"] == ALL_HEADS
    made = run_parity(
        "server", "user", "create", "ada", "--admin", "--json", cwd=workspace, env=stores
    )
    token = json.loads(made.stdout)["token"]
    with server_process("--workers", "2", cwd=workspace, env=stores) as (_, url, printed):
        assert "metadata  postgresql+psycopg://" in printed
        assert f"objects   {s3_bucket}" in printed
        assert httpx.get(f"{url}/api/v1/whoami").status_code == 401  # users exist: tokens
        bearer = {"Authorization": f"Bearer {token}"}
        for _ in range(4):  # whichever worker answers, it knows the token
            assert httpx.get(f"{url}/api/v1/whoami", headers=bearer).json()["user"] == "ada"


def test_ui_serves_the_workspace_s_pages_on_loopback_and_prints_their_url(
    workspace_dir: Path,
) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "parity", "ui", "--port", "0"],
        cwd=workspace_dir,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            printed = process.stdout.readline() + process.stdout.readline()
            assert f"Parity UI for {workspace_dir}" in printed
            url = printed.split("open ", 1)[1].split()[0]
            assert url.startswith("http://127.0.0.1:")
            _wait_healthy(url.rstrip("/"))
            page = httpx.get(url)  # no users: the pages are the OS user's, an admin's
            assert page.status_code == 200
            assert f"{getpass.getuser()} · admin" in page.text
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) in (0, 130)  # 130: stopped by Ctrl-C, as a shell says


def test_start_on_every_address_warns_until_host_names_are_given(workspace_dir: Path) -> None:
    from parity.api import accounts
    from parity.server import launch

    with open_workspace(workspace_dir, environ={}) as workspace:
        accounts.create_user("root", admin=True, workspace=workspace)
    anywhere = launch.settings_for(host="0.0.0.0", port=0, workspace=workspace_dir)
    assert launch.prepare(anywhere)[1].any_host is True
    named = launch.settings_for(
        host="0.0.0.0",
        port=0,
        allowed_hosts=["parity.acme.org"],
        workspace=workspace_dir,
    )
    assert launch.prepare(named)[1].any_host is False
    assert launch.prepare(launch.settings_for(port=0, workspace=workspace_dir))[1].any_host is False


def test_the_ui_takes_advisories_for_its_environment_pages(
    workspace_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parity.server import launch
    from parity.server.settings import ServerSettings

    (workspace_dir / "osv").mkdir()
    monkeypatch.chdir(workspace_dir)
    settings = launch.settings_for(port=0, workspace=workspace_dir, advisories=Path("osv"))
    assert settings.advisories == str((workspace_dir / "osv").resolve())  # workers start elsewhere
    assert ServerSettings.from_json(settings.to_json()).advisories == settings.advisories
    assert launch.settings_for(port=0, workspace=workspace_dir).advisories is None
    missing = run_parity("ui", "--port", "0", "--advisories", "nowhere.zip", cwd=workspace_dir)
    assert missing.returncode == 2
    assert "'nowhere.zip' does not exist" in missing.stderr
