"""The registry's routes on a live server: changes made as the token's user, roles and per-model
grants, a model record required to register, lineage as the CLI shows it, hostile names refused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from parity.accounts.store import Accounts
from parity.api import models, runs
from parity.core.errors import AccessDenied, ConflictError, NotFoundError, UsageError
from parity.core.roles import Role, Scope
from parity.registry.remote import RemoteRegistry
from parity.registry.repository import Actor
from parity.store.http.client import ServerClient
from parity.workspace import Workspace, now_ms, open_workspace
from tests.server.live import TeamServer, team_server


@dataclass(frozen=True)
class Served:
    server: TeamServer
    folder: Path
    model_id: str
    run_id: str
    # A reader with a writer grant on model "bc", and one with an admin grant on it.
    bc_writer: str
    bc_admin: str

    def workspace(self) -> Workspace:
        return open_workspace(self.folder, environ={"PARITY_WORKSPACE": str(self.folder)})

    def client(self, token: str) -> ServerClient:
        return ServerClient(self.server.url, token)


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, breast_cancer: tuple[Any, Any]
) -> Iterator[Served]:
    model, features = breast_cancer
    folder = tmp_path_factory.mktemp("served")
    with team_server(folder) as server:
        workspace = open_workspace(folder, environ={"PARITY_WORKSPACE": str(folder)})
        try:
            table = folder / "train.csv"
            features.iloc[:200].to_csv(table, index=False)
            with runs.start(experiment="train", workspace=workspace) as run:
                run.use_data(table)
                run.log_model(model, input_example=features.iloc[:50])
            view = runs.get(run.id, workspace=workspace)
            model_id = next(a.digest for a in view.artifacts if a.path == "model")
            accounts = Accounts(workspace.meta, now_ms)
            tokens = {}
            for user, role in (("carol", Role.WRITER), ("dana", Role.ADMIN)):
                accounts.create_user(user, admin=False)
                accounts.grant(user, Scope.MODEL, "bc", role)
                tokens[user] = accounts.create_token(user, Role.READER)[0]
        finally:
            workspace.close()
        yield Served(server, folder, model_id, run.id, tokens["carol"], tokens["dana"])


@pytest.fixture
def writer(served: Served) -> Iterator[ServerClient]:
    with served.client(served.server.writer) as client:
        yield client


def _register(client: ServerClient, served: Served, name: str, **extra: Any) -> dict[str, Any]:
    body = {"model_id": served.model_id, "run_id": served.run_id, **extra}
    answer: dict[str, Any] = client.post(f"/models/{name}/versions", body)
    return answer


def test_a_version_is_registered_and_audited_as_the_token_s_user(
    served: Served, writer: ServerClient
) -> None:
    created = _register(writer, served, "audited", description="first", reason="baseline")
    assert (created["version"], created["created_by"]) == (1, "admin")
    writer.put("/models/audited/aliases/staging", {"version": 1, "reason": "qa"})
    trail = writer.get("/models/audited/history")
    assert [(e["action"], e["actor"], e["reason"]) for e in trail] == [
        ("register", "admin", "baseline"),
        ("alias", "admin", "qa"),
    ]
    assert writer.get("/model-versions", params={"reference": "audited@staging"})["version"] == 1
    assert writer.get("/models/audited")["aliases"] == {"staging": 1}
    assert [m["name"] for m in writer.get("/models")] >= ["audited"]


def test_a_version_must_point_at_a_model_record_the_server_stores(writer: ServerClient) -> None:
    with pytest.raises(NotFoundError, match="no model record 0000000000"):
        writer.post("/models/ghost/versions", {"model_id": "0" * 64})
    with pytest.raises(UsageError, match="model_id"):
        writer.post("/models/ghost/versions", {"model_id": "../../etc/passwd"})


def test_a_reader_may_read_but_not_change(served: Served, writer: ServerClient) -> None:
    _register(writer, served, "guarded")
    with served.client(served.server.reader) as reader:
        assert reader.get("/models/guarded/latest")["version"] == 1
        with pytest.raises(AccessDenied, match="may not set a model alias: it needs the writer"):
            reader.put("/models/guarded/aliases/production", {"version": 1})
        with pytest.raises(AccessDenied, match="needs the writer role"):
            RemoteRegistry(reader).lock("guarded", 1, Actor("ignored"))


def test_a_grant_on_one_model_raises_the_role_on_that_model_only(
    served: Served, writer: ServerClient
) -> None:
    _register(writer, served, "bc")
    _register(writer, served, "other")
    writer.post("/models/bc/versions/1/lock", {"reason": "serving"})
    with served.client(served.bc_writer) as carol:
        moved = carol.put("/models/bc/aliases/production", {"version": 1, "reason": "go"})
        assert moved["aliases"] == ["production"]
        with pytest.raises(AccessDenied, match="needs the writer role"):
            carol.put("/models/other/aliases/production", {"version": 1})
        # A writer grant is not an admin's: the Registry refuses the unlock, as embedded.
        with pytest.raises(ConflictError, match="only an admin may unlock bc/1"):
            carol.post("/models/bc/versions/1/unlock", {"reason": "done"})
    with served.client(served.bc_admin) as dana:
        assert dana.post("/models/bc/versions/1/unlock", {"reason": "done"})["locked"] is False
    last = writer.get("/models/bc/history")[-1]
    assert (last["action"], last["actor"], last["reason"]) == ("unlock", "dana", "done")


def test_lineage_is_the_graph_the_cli_shows(served: Served, writer: ServerClient) -> None:
    created = _register(writer, served, "traced")
    answer = writer.get(f"/models/traced/versions/{created['version']}/lineage")
    with served.workspace() as workspace:
        expected = models.lineage("traced/1", workspace=workspace).to_dict()
    assert answer == expected
    assert answer["summary"]["run_ids"] == [served.run_id]
    assert len(answer["summary"]["data_version_ids"]) == 1


def test_delete_answers_the_version_it_removed(served: Served, writer: ServerClient) -> None:
    _register(writer, served, "brief")
    _register(writer, served, "brief")
    removed = writer.request("DELETE", "/models/brief/versions/2", json={"reason": "bad"})
    assert removed.json()["version"] == 2
    assert [v["version"] for v in writer.get("/models/brief/versions")] == [1]
    writer.put("/models/brief/aliases/old", {"version": 1})
    assert writer.request("DELETE", "/models/brief/aliases/old").status_code == 204
    with pytest.raises(NotFoundError, match="has no alias 'old'"):
        writer.get("/models/brief/aliases/old")


@pytest.mark.parametrize(
    "payload",
    [
        "%2e%2e",
        "%2e%2e%2fetc",
        "..%2f..%2fetc%2fpasswd",
        "%2fetc%2fpasswd",
        "file:%2f%2f%2fetc%2fpasswd",
        "s3:%2f%2fother-bucket%2f",
        "bc%00",
        "-bc",
        "a" * 201,
    ],
)
def test_hostile_names_are_refused_before_any_store_is_touched(
    served: Served, payload: str
) -> None:
    headers = {"Authorization": f"Bearer {served.server.admin}"}
    base = f"{served.server.url}/api/v1/models"
    for method, path, body in (
        ("GET", f"{base}/{payload}/versions", None),
        ("GET", f"{base}/bc/aliases/{payload}", None),
        ("PUT", f"{base}/bc/aliases/{payload}", {"version": 1}),
        ("POST", f"{base}/{payload}/versions", {"model_id": "0" * 64}),
        ("GET", f"{base}/{payload}/history", None),
    ):
        answer = httpx.request(method, path, json=body, headers=headers)
        assert 400 <= answer.status_code < 500, (method, path, answer.status_code)
        assert set(answer.json()) == {"error", "code", "hint"}
    with served.workspace() as workspace:
        assert all(m["name"] != payload for m in workspace.registry.models())
