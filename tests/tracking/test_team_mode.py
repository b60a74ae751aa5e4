"""Tracking in team mode, end to end: training scripts and the ``parity`` command in subprocesses
against a Parity server on PostgreSQL and S3 (moto), which may go down, come back, or be two.

The scripts start their runs with ``tests.tracking.team.RUN_PRELUDE`` (no source capture) until
records reach the server (srv-objects); the commands are the user's own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import parity
from parity.core.roles import Role
from parity.core.run import RunStatus
from parity.store.records import RecordStore
from parity.tracking.journal import JOURNAL_DIR, JournalFile
from parity.tracking.remote import RemoteRunStore
from parity.workspace import init_workspace, open_workspace
from tests.conftest import run_parity
from tests.tracking.conftest import run_script
from tests.tracking.team import RUN_PRELUDE, Served, client_workspace, serve

# Two runs of a sweep, one after the other, each ending as a with-block does.
SWEEP = """
from parity.api._run import Run
from parity.workspace import open_workspace
with open_workspace() as workspace:
    for name, lr in (("low", 0.01), ("high", 1.0)):
        run_id = workspace.runs.create(
            experiment="cancer", name=name, user=workspace.user, host=None, command=["sweep"]
        )
        with Run(workspace, run_id, owns_run=True, owns_workspace=False, sources=None) as run:
            run.log_params({"lr": lr})
            run.set_tag("model", "m")
            for step in range(50):
                run.log_metric("loss", 1 / (step + 1) + lr)
        print(run_id)
"""


@pytest.fixture
def team(tmp_path: Path, postgres_url: str, s3_bucket: str, s3_endpoint: str) -> Iterator[Served]:
    with serve(
        tmp_path / "served",
        metadata_url=postgres_url,
        objects_url=s3_bucket,
        s3_endpoint_url=s3_endpoint,
    ) as served:
        yield served


@pytest.fixture
def client(tmp_path: Path, team: Served) -> Path:
    """A project folder whose workspace uses the server."""
    folder = tmp_path / "project"
    folder.mkdir()
    client_workspace(folder, team.environment()).close()
    return folder


def _parity(client: Path, team: Served, *args: str) -> subprocess.CompletedProcess[str]:
    return run_parity(*args, cwd=client, env=team.environment())


def _json(client: Path, team: Served, *args: str) -> object:
    result = _parity(client, team, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@contextmanager
def _reading(team: Served) -> Iterator[RemoteRunStore]:
    """How the test reads what the server holds: a reader's client of its own."""
    store = RemoteRunStore(team.client("observer", Role.READER))
    try:
        yield store
    finally:
        store.client.close()


def test_runs_commands_against_the_server(team: Served, client: Path) -> None:
    logged = run_script(SWEEP, client, env=team.environment())
    assert logged.returncode == 0, logged.stderr
    assert "not everything is sent" not in logged.stderr
    low, high = logged.stdout.split()

    def listed(*args: str) -> list[str]:
        found = _json(client, team, "runs", "list", *args)
        assert isinstance(found, list)
        return [run["id"] for run in found]

    assert listed("--sort", "params.lr") == [low, high]
    assert listed("--filter", "params.lr < 0.5 and tags.model = 'm'") == [low]
    bad = _parity(client, team, "runs", "list", "--filter", "metrics.loss > 1 params.x = 1")
    assert bad.returncode == 2
    assert "at character 18" in bad.stderr

    shown = _json(client, team, "runs", "show", low[:10])
    assert isinstance(shown, dict)
    assert (shown["user"], shown["status"], shown["params"]) == (
        "alice",
        "finished",
        {"lr": "0.01"},
    )
    assert shown["metrics"]["loss"] == pytest.approx(1 / 50 + 0.01)
    history = _json(client, team, "runs", "history", low[:10], "loss")
    assert isinstance(history, list)
    assert [point["step"] for point in history] == list(range(50))
    missing = _parity(client, team, "runs", "history", low[:10], "los")
    assert missing.returncode == 3
    assert "has no metric 'los' (its metrics: loss)" in missing.stderr

    assert _parity(client, team, "runs", "delete", high[:10]).returncode == 0
    assert listed() == [low]
    assert _parity(client, team, "runs", "undelete", high[:10]).returncode == 0
    assert listed("--deleted") == []
    synced = _json(client, team, "runs", "sync")
    assert synced == {
        "delivered": [],
        "points": 0,
        "rejected": 0,
        "live": [],
        "other_server": [],
        "left": [],
        "error": None,
        "unreadable": [],
    }
    assert list((client / ".parity" / JOURNAL_DIR).iterdir()) == []  # every journal delivered


def test_runs_compare_against_the_server(team: Served, client: Path) -> None:
    logged = run_script(SWEEP, client, env=team.environment())
    assert logged.returncode == 0, logged.stderr
    compared = _json(client, team, "runs", "compare", *logged.stdout.split())
    assert isinstance(compared, dict)
    assert compared["params"] == [{"key": "lr", "values": ["0.01", "1.0"], "differs": True}]


KILLED = (
    RUN_PRELUDE
    + """
from pathlib import Path
go = Path(sys.argv[3])
total = int(sys.argv[4])
for step in range(total // 2):
    run.log_metric("loss", step / total, step=step)
run.flush()
print("half", flush=True)
while not go.exists():
    time.sleep(0.01)
for step in range(total // 2, total):
    run.log_metric("loss", step / total, step=step)
    if step % 1000 == 0:
        run.set_tag("progress", step)
run.flush()  # on disk in the journal: what a kill after this must not lose
print("flushed", flush=True)
time.sleep(600)
"""
)


def _start(script: str, client: Path, team: Served, *args: str) -> subprocess.Popen[str]:
    (client / "_job.py").write_text(script)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    return subprocess.Popen(
        [sys.executable, str(client / "_job.py"), *args],
        cwd=client,
        env={**env, **team.environment()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> str:
    """Kill ``process`` if it still runs; its stderr."""
    process.kill()
    _, stderr = process.communicate(timeout=60)
    return stderr


def _line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line:
        assert process.stderr is not None
        raise AssertionError(process.stderr.read())
    return line


def test_a_run_killed_while_the_server_is_down_loses_no_point(team: Served, client: Path) -> None:
    total = 20_000
    go = client / "go"
    job = _start(KILLED, client, team, "killed", "k", str(go), str(total))
    try:
        run_id = _line(job)
        assert _line(job) == "half"
        team.stop()  # the server goes away in the middle of the run
        go.touch()
        assert _line(job) == "flushed"
        job.send_signal(signal.SIGKILL)
        job.wait(timeout=30)
    finally:
        _finish(job)
    assert job.returncode == -signal.SIGKILL
    team.start()
    status = run_parity("status", "--json", cwd=client)  # the workspace's own stores, offline
    assert status.returncode == 0, status.stderr
    [waiting] = json.loads(status.stdout)["unsent"]
    assert (waiting["run_id"], waiting["live"]) == (run_id, False)
    synced = _json(client, team, "runs", "sync")
    assert isinstance(synced, dict)
    assert synced["error"] is None
    assert [d["run_id"] for d in synced["delivered"]] == [run_id]
    with _reading(team) as store:
        assert store.count_metric_points(run_id) == total  # every point, none twice
        assert [p.step for p in store.metric_history(run_id, "loss")] == list(range(total))
        assert store.get(run_id).tags == {"progress": str(total - 1000)}
        assert store.get(run_id).status is RunStatus.RUNNING  # it never ended
    assert list((client / ".parity" / JOURNAL_DIR).iterdir()) == []
    again = _json(client, team, "runs", "sync")
    assert isinstance(again, dict)
    assert again["delivered"] == []


def test_reading_runs_first_sends_what_an_ended_run_left(team: Served, client: Path) -> None:
    go = client / "go"
    job = _start(KILLED, client, team, "left", "l", str(go), "2000")
    try:
        run_id = _line(job)
        assert _line(job) == "half"
        team.stop()
        go.touch()
        assert _line(job) == "flushed"
    finally:
        _finish(job)
    team.start()
    history = _json(client, team, "runs", "history", run_id[:10], "loss")
    assert isinstance(history, list)
    assert len(history) == 2000


STEADY = (
    RUN_PRELUDE
    + """
total = int(sys.argv[3])
for step in range(total):
    run.log_metric("loss", step / total, step=step)
    run.log_metric("acc", 1 - step / total, step=step)
    if step % 500 == 0:
        time.sleep(0.1)
run.end()
print("ended", flush=True)
"""
)


def test_the_server_restarted_in_the_middle_of_a_run_loses_nothing(
    team: Served, client: Path
) -> None:
    total = 30_000
    job = _start(STEADY, client, team, "restart", "r", str(total))
    with _reading(team) as store:
        try:
            run_id = _line(job)
            deadline = time.monotonic() + 60
            while store.count_metric_points(run_id) < 2000:
                assert time.monotonic() < deadline, "no point reached the server"
                time.sleep(0.1)
            team.stop()
            time.sleep(3)  # the run keeps logging into its journal meanwhile
            assert job.poll() is None  # and has not failed
            team.start()
            assert _line(job) == "ended"
            job.wait(timeout=120)
        finally:
            stderr = _finish(job)
        assert job.returncode == 0, stderr
        assert "not everything is sent" not in stderr
        assert store.count_metric_points(run_id) == 2 * total
        for key in ("loss", "acc"):
            assert [p.step for p in store.metric_history(run_id, key)] == list(range(total))
        view = store.get(run_id)
        assert view.status is RunStatus.FINISHED
        assert view.metrics["loss"] == pytest.approx((total - 1) / total)
    assert list((client / ".parity" / JOURNAL_DIR).iterdir()) == []


CONCURRENT = (
    RUN_PRELUDE
    + """
from pathlib import Path
go = Path(sys.argv[3])
while not go.exists():
    time.sleep(0.01)
for step in range(10_000):
    run.log_metric("loss", step / 10_000, step=step)
    if step % 500 == 499:
        run.flush()
run.end()
"""
)


@pytest.mark.slow
def test_two_servers_and_eight_clients_store_every_point_once(
    tmp_path: Path, postgres_url: str, s3_bucket: str, s3_endpoint: str
) -> None:
    stores = {
        "metadata_url": postgres_url,
        "objects_url": s3_bucket,
        "s3_endpoint_url": s3_endpoint,
    }
    with serve(tmp_path / "a", **stores) as first, serve(tmp_path / "b", **stores) as second:
        go = tmp_path / "go"
        jobs = []
        for index in range(8):
            team = (first, second)[index % 2]
            folder = tmp_path / f"client{index}"
            folder.mkdir()
            client_workspace(folder, team.environment()).close()
            jobs.append(_start(CONCURRENT, folder, team, "concurrent", f"c{index}", str(go)))
        try:
            run_ids = [_line(job) for job in jobs]
            started = time.monotonic()
            go.touch()
            for job in jobs:
                job.wait(timeout=300)
        finally:
            errors = [_finish(job) for job in jobs]
        for job, stderr in zip(jobs, errors, strict=True):
            assert job.returncode == 0, stderr
            assert "not everything is sent" not in stderr
        took = time.monotonic() - started
        for team in (first, second):
            with _reading(team) as store:
                counts = [store.count_metric_points(run_id) for run_id in run_ids]
                assert counts == [10_000] * 8
                assert sum(counts) == 80_000
                for run_id in run_ids:
                    steps = [p.step for p in store.metric_history(run_id, "loss")]
                    assert steps == list(range(10_000))  # none lost, none twice
                runs = store.search(experiment="concurrent")
                assert {str(run.status) for run in runs} == {"finished"}
        print(f"8 clients x 10,000 points through two servers: {took:.1f} s")


def test_status_lists_unsent_runs_and_sync_leaves_another_server_s(tmp_path: Path) -> None:
    workspace, _ = init_workspace(tmp_path / "project", environ={})
    run_id = "0123456789abcdef0123456789abcdef"
    journal = JournalFile(workspace.parity_dir / JOURNAL_DIR, run_id, "http://elsewhere", 1)
    journal.append({"op": "tags", "tags": {"a": "1"}})
    journal.close()
    workspace.close()
    status = run_parity("status", "--json", cwd=tmp_path / "project")
    assert status.returncode == 0, status.stderr
    [waiting] = json.loads(status.stdout)["unsent"]
    assert (waiting["run_id"], waiting["entries"], waiting["live"]) == (run_id, 1, False)
    table = run_parity("status", cwd=tmp_path / "project").stdout
    assert "Unsent runs" in table
    assert run_id in table
    synced = run_parity("runs", "sync", cwd=tmp_path / "project")
    assert synced.returncode == 0, synced.stderr
    assert f"run {run_id[:16]}: its journal is for another server" in synced.stdout


def test_start_run_in_team_mode_sends_everything_through_its_journal(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Until records go over HTTP (srv-objects), the code state and environment records of the
    # run are kept in the project's own stores; everything else goes to the server.
    monkeypatch.chdir(repo)
    with serve(tmp_path / "served") as served:
        workspace = client_workspace(repo, served.environment())
        local = open_workspace(repo, environ={})
        workspace.__dict__["records"] = RecordStore(local.objects, local.meta)
        with parity.start_run(
            experiment="team", name="first", params={"lr": 0.1}, workspace=workspace
        ) as run:
            for step in range(1000):
                run.log_metric("loss", 1 / (step + 1))
            run.set_tag("stage", "dev")
            run.log_text("hello", "notes.txt")
            environment_id = run.environment_id
            journal = run._journal
            assert journal is not None
            assert journal.path.parent == repo / ".parity" / JOURNAL_DIR
        assert not journal.path.exists()  # delivered whole, then deleted
        with _reading(served) as store:
            view = store.get(run.id)
            assert (view.user, view.status, view.name) == ("alice", RunStatus.FINISHED, "first")
            assert (view.params, view.tags) == ({"lr": "0.1"}, {"stage": "dev"})
            assert view.environment_id == environment_id is not None
            assert view.code is not None
            assert view.code["id"] == run.code_id
            assert [a.path for a in view.artifacts] == ["notes.txt"]
            assert store.count_metric_points(run.id) == 1000
        assert parity.api.runs.get(run.id[:12], workspace=workspace).metrics == {"loss": 0.001}
        workspace.close()
        local.close()


# Another process fixed lr first; this one's run then logs it differently.
CONFLICTING_PARAM = """
from parity.api._run import Run
from parity.core.errors import ConflictError
from parity.workspace import open_workspace
with open_workspace() as workspace:
    run_id = workspace.runs.create(
        experiment="clash", name=None, user=workspace.user, host=None, command=["train"]
    )
    workspace.runs.log_params(run_id, {"lr": 0.2})
    print(run_id)
    try:
        with Run(workspace, run_id, owns_run=True, owns_workspace=False, sources=None) as run:
            run.log_params({"lr": 0.1})
            run.log_metric("loss", 0.5)
    except ConflictError as refused:
        print("refused:", refused.message)
        raise SystemExit(refused.exit_code)
"""


def test_a_write_the_server_refuses_fails_the_run_as_it_would_embedded(
    team: Served, client: Path
) -> None:
    """Embedded, the second lr raises in the run and fails it; in team mode the write is
    journaled first, so the run's end learns of the refusal and does the same, never only warn."""
    ran = run_script(CONFLICTING_PARAM, client, env=team.environment())
    assert ran.returncode == 4, ran.stderr
    run_id, said = ran.stdout.splitlines()
    assert said.startswith(f"refused: run {run_id[:8]}")
    assert "the server refused 1 of its writes (first: param 'lr'" in said
    with _reading(team) as server:
        stored = server.get(run_id)
    assert stored.status is RunStatus.FAILED
    assert stored.params == {"lr": "0.2"}
    assert "the server refused 1 of its writes" in stored.tags["error"]
    assert stored.metrics == {"loss": 0.5}  # what it did take is kept
    status = _json(client, team, "status")
    assert isinstance(status, dict)
    [kept] = status["refused"]
    assert (kept["run_id"], kept["writes"]) == (run_id, 1)
    assert "param 'lr'" in Path(kept["file"]).read_text()
    shown = _parity(client, team, "status")
    assert "Writes the server refused" in shown.stdout
