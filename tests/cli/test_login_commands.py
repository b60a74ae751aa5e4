"""``parity login`` and ``parity status`` against a live server, through the real command."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_parity
from tests.server.live import team_server


def _login(url: str, token: str, cwd: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    env["XDG_CONFIG_HOME"] = str(config)
    return subprocess.run(
        [sys.executable, "-m", "parity", "login", url, "--token-stdin"],
        cwd=cwd,
        env=env,
        input=token + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_login_keeps_a_checked_token_and_status_names_the_server_s_user(
    tmp_path: Path, workspace_dir: Path
) -> None:
    config = tmp_path / "config"
    credentials = config / "parity" / "credentials.toml"
    with team_server(tmp_path / "served") as server:
        refused = _login(server.url, server.reader + "x", tmp_path, config)
        assert refused.returncode == 2
        assert "unknown, revoked or expired" in refused.stderr
        assert not credentials.exists()

        signed_in = _login(server.url, server.reader, tmp_path, config)
        assert signed_in.returncode == 0, signed_in.stderr
        assert signed_in.stdout == f"Signed in to {server.url} as admin (reader)\n"
        assert f"PARITY_SERVER_URL={server.url}" in signed_in.stderr
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        assert server.reader in credentials.read_text()

        # the workspace names the server; the token comes from the credentials file
        team = {"PARITY_SERVER_URL": server.url, "XDG_CONFIG_HOME": str(config)}
        shown = run_parity("status", cwd=workspace_dir, env=team)
        assert shown.returncode == 0, shown.stderr
        assert f"Server {server.url}: signed in as admin (reader)" in shown.stdout
        report = json.loads(run_parity("status", "--json", cwd=workspace_dir, env=team).stdout)
        assert report["server"] == {
            "url": server.url,
            "user": "admin",
            "role": "reader",
            "error": None,
        }
    # the server has stopped: status still answers, and says so
    stopped = run_parity("status", cwd=workspace_dir, env=team)
    assert stopped.returncode == 0, stopped.stderr
    assert "not answering as expected: cannot reach the Parity server" in stopped.stdout


def test_status_of_a_workspace_with_its_own_stores_names_no_server(workspace_dir: Path) -> None:
    report = json.loads(run_parity("status", "--json", cwd=workspace_dir).stdout)
    assert report["server"] is None
    assert report["metadata"]["dialect"] == "sqlite"
