"""``parity ui`` on one machine starts in local mode (no users: every loopback caller is the
OS user, an admin) and leaves it as soon as the first user exists, without a restart."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import run_parity
from tests.server.live import team_server

HTML = {"Accept": "text/html"}


def test_a_user_created_while_the_ui_runs_ends_local_mode(tmp_path: Path) -> None:
    folder = tmp_path / "workspace"
    with team_server(folder, users=False, local_user="ada") as served:
        home = httpx.get(served.url + "/", headers=HTML)
        assert home.status_code == 200, home.text
        assert httpx.get(served.url + "/api/v1/whoami").json()["user"] == "ada"
        made = run_parity(
            "server", "user", "create", "bob", "--admin", cwd=folder,
            env={"PARITY_WORKSPACE": str(folder)},
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip().splitlines()[-1]
        refused = httpx.get(served.url + "/experiments/e?sort=x", headers=HTML)
        assert refused.status_code == 303
        assert refused.headers["location"] == "/login?next=%2Fexperiments%2Fe%3Fsort%3Dx"
        assert httpx.get(served.url + "/api/v1/whoami").status_code == 401
        signed = httpx.get(
            served.url + "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}
        )
        assert signed.json()["user"] == "bob"
