"""A team's set-up for end-to-end tests: a live server on PostgreSQL + S3 (moto), users with
tokens, and a client workspace whose stores are the server's (team mode)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.accounts.store import Accounts
from parity.api import runs
from parity.core.roles import Role
from parity.workspace import Workspace, init_workspace, now_ms, open_workspace
from tests.conftest import run_parity
from tests.server.live import TeamServer, team_server


@dataclass(frozen=True)
class Team:
    server: TeamServer
    served: Path  # the server's workspace folder (its config); its stores are PostgreSQL + S3
    served_environ: dict[str, str]
    client: Path  # a team member's project: a workspace that uses the server
    tokens: dict[str, str]  # user -> token: alice (writer), reader-rita (reader), boss (admin)

    def environ(self, user: str = "alice") -> dict[str, str]:
        """A client process's environment: the server and the user's token. PARITY_USER says
        someone else, which a server must not believe: the token names the user."""
        return {
            "PARITY_SERVER_URL": self.server.url,
            "PARITY_TOKEN": self.tokens[user],
            "PARITY_USER": "mallory",
        }

    def parity(self, *args: str, user: str = "alice") -> subprocess.CompletedProcess[str]:
        """Run the real ``parity`` CLI in the client project, in team mode as ``user``."""
        return run_parity(*args, cwd=self.client, env=self.environ(user))

    def workspace(self, user: str = "alice") -> Workspace:
        """The client project's workspace in team mode, in this process."""
        return open_workspace(
            self.client, environ={"PARITY_WORKSPACE": str(self.client), **self.environ(user)}
        )

    def served_workspace(self) -> Workspace:
        """The server's own stores, embedded (what the server holds, read directly)."""
        return open_workspace(self.served, environ=self.served_environ)


@contextmanager
def team(folder: Path, postgres_url: str, s3_bucket: str, s3_endpoint: str) -> Iterator[Team]:
    served = folder / "served"
    with team_server(
        served, metadata_url=postgres_url, objects_url=s3_bucket, s3_endpoint_url=s3_endpoint
    ) as server:
        served_environ = {
            "PARITY_WORKSPACE": str(served),
            "PARITY_METADATA_URL": postgres_url,
            "PARITY_OBJECTS_URL": s3_bucket,
            "PARITY_S3_ENDPOINT_URL": s3_endpoint,
        }
        with open_workspace(served, environ=served_environ) as workspace:
            accounts = Accounts(workspace.meta, now_ms)
            tokens = {}
            for user, role in (
                ("alice", Role.WRITER),
                ("reader-rita", Role.READER),
                ("boss", Role.ADMIN),
            ):
                accounts.create_user(user, admin=role is Role.ADMIN)
                tokens[user] = accounts.create_token(user, role)[0]
        client = folder / "project"
        client.mkdir()
        made, _ = init_workspace(client, environ={})
        made.close()
        yield Team(server, served, served_environ, client, tokens)


def train(team: Team, model: Any, features: Any, table: Path | None = None) -> str:
    """Log ``model`` from a run in team mode (reading ``table`` as its training data, when
    given); returns the run's id."""
    with team.workspace() as workspace:
        with runs.start(experiment="churn", workspace=workspace) as run:
            if table is not None:
                run.use_data(table)
            run.log_params({"C": 1.0})
            run.log_model(model, input_example=features)
        return run.id
