"""Team-mode listings: ``runs list``, ``status`` and ``runs show`` with the metadata in PostgreSQL
and the objects in S3, against the same commands in an embedded workspace (SQLite + a folder).

Each Parity install timed gets two workspaces of its own, filled by itself with the same runs
(``--runs``, each from another uncommitted change, so each has its own diff and code state): a
team one on a fresh PostgreSQL database (on the server of ``PARITY_TEST_POSTGRES_URL``) and a
prefix of a bucket on moto's S3 server in this process, and an embedded one. Every command
runs as a fresh process, all of them interleaved round by round, with Python's bytecode cache
and with ``PYTHONDONTWRITEBYTECODE=1``; medians are reported with the load average. Issue
21's goal: team ``runs list`` and ``status`` within 1.5x of embedded. Last, each team command
runs once more while moto counts the S3 requests it receives: a listing should make none.

``--compare PYTHON`` fills and times another install the same way in the same rounds (for
example the main checkout's venv: a before/after from one run).

    PARITY_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python -m benchmarks startup_team [--runs N] [--rounds N] [--compare PYTHON]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks._support import clean_env, free_port, python_env, table
from benchmarks.startup import git_repository, no_write_env, run, seconds

RUNS = 100
# Fills a workspace: RUNS runs over three experiments, each with params and a few metrics, each
# started from a tree with another uncommitted change (its own diff, its own code state: runs
# over a project's history share few).
FILL = """
import sys
from pathlib import Path
import parity
from parity.api import workspace as workspaces
workspace = workspaces.open()
for i in range(int(sys.argv[1])):
    Path("train.py").write_text(f"print('train, change {i}')\\n")
    with parity.start_run(experiment=f"exp-{i % 3}", name=f"run-{i}",
                          params={"lr": 0.1 * (i % 5), "model": "rf"}, workspace=workspace) as run:
        for step in range(3):
            run.log_metric("loss", 1.0 / (step + i + 1), step=step)
        run.log_metric("acc", 0.5 + i / 1000)
workspace.close()
"""
COMMANDS = {"runs list": ["runs", "list"], "status": ["status"], "runs show": None}


class RequestCounter(logging.Handler):
    """Counts the requests moto's server logs (werkzeug logs one line per request)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if any(f'"{verb} ' in message for verb in ("GET", "HEAD", "PUT", "POST", "DELETE")):
            with self._lock:
                self.count += 1


@contextmanager
def s3_server() -> Iterator[tuple[str, RequestCounter]]:
    from moto.server import ThreadedMotoServer

    counter = RequestCounter()
    logger = logging.getLogger("werkzeug")
    logger.setLevel(logging.INFO)
    logger.addHandler(counter)
    logger.propagate = False
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}", counter
    finally:
        server.stop()
        logger.removeHandler(counter)


@contextmanager
def postgres_databases(admin_url: str, names: list[str]) -> Iterator[dict[str, str]]:
    """A fresh database per name on the server of ``admin_url``, dropped afterwards."""
    import sqlalchemy as sa

    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    made = {name: f"parity_bench_{name.lower()}_{uuid.uuid4().hex[:8]}" for name in names}
    try:
        with engine.connect() as connection:
            for database in made.values():
                connection.execute(sa.text(f"CREATE DATABASE {database}"))
        base = sa.make_url(admin_url)
        yield {
            name: base.set(database=database).render_as_string(hide_password=False)
            for name, database in made.items()
        }
    finally:
        with engine.connect() as connection:
            for database in made.values():
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        engine.dispose()


def filled_workspace(folder: Path, python: str, runs: int, environ: dict[str, str]) -> str:
    """A git repository with a Parity workspace holding ``runs`` runs; the newest run's id."""
    git_repository(folder)
    run([python, "-m", "parity", "init"], folder, environ)
    run(["git", "add", "-A"], folder)
    run(["git", "commit", "-q", "-m", "parity"], folder)
    run([python, "-c", FILL, str(runs)], folder, environ)
    listed = json.loads(
        run([python, "-m", "parity", "runs", "list", "-n", "1", "--json"], folder, environ)
    )
    return str(listed[0]["id"])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks startup_team")
    parser.add_argument("--runs", type=int, default=RUNS, help="runs in each workspace")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (median reported)")
    parser.add_argument("--compare", help="another Parity install's python, timed alongside")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("PARITY_TEST_POSTGRES_URL"),
        help="a PostgreSQL URL whose server may get new databases (PARITY_TEST_POSTGRES_URL)",
    )
    args, _ = parser.parse_known_args(sys.argv[2:] if sys.argv[1:2] == ["startup_team"] else None)
    if not args.postgres:
        # not measured, said so; `make bench` goes on with the other benchmarks
        print("startup_team not measured: needs PostgreSQL (PARITY_TEST_POSTGRES_URL, --postgres)")
        return
    parities = {"Parity": sys.executable, **({"compared": args.compare} if args.compare else {})}
    work = Path(tempfile.mkdtemp(prefix="parity-bench-team-"))
    aws = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with (
        s3_server() as (endpoint, counter),
        postgres_databases(args.postgres, list(parities)) as dbs,
    ):
        import boto3

        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        client.create_bucket(Bucket=bucket)
        # (who, setting) -> (folder, the environment its commands need, the newest run)
        places: dict[tuple[str, str], tuple[Path, dict[str, str], str]] = {}
        for who, python in parities.items():
            team = {
                **aws,
                "PARITY_METADATA_URL": dbs[who],
                "PARITY_OBJECTS_URL": f"s3://{bucket}/{who}",
                "PARITY_S3_ENDPOINT_URL": endpoint,
            }
            for setting, extra in (("team", team), ("embedded", {})):
                folder = work / f"{setting}-{who}"
                newest = filled_workspace(folder, python, args.runs, clean_env(**extra))
                places[(who, setting)] = (folder, extra, newest)

        modes = {
            "bytecode cache": python_env(True),
            "PYTHONDONTWRITEBYTECODE=1": no_write_env(),
        }
        timed: list[tuple[str, list[str], Path, dict[str, str]]] = []
        for mode, base in modes.items():
            for (who, setting), (folder, extra, newest) in places.items():
                for name, argv in COMMANDS.items():
                    command = argv or ["runs", "show", newest]
                    label = f"{who}|{setting}|{name}|{mode}"
                    environ = {**base, **extra}
                    timed.append(
                        (label, [parities[who], "-m", "parity", *command], folder, environ)
                    )
        walls: dict[str, list[float]] = {label: [] for label, *_ in timed}
        cpus: dict[str, list[float]] = {label: [] for label, *_ in timed}
        for round_ in range(args.rounds + 1):  # the first round warms caches and is not counted
            for label, command, cwd, environ in timed:
                wall, cpu = wall_and_cpu(command, cwd, environ)
                if round_:
                    walls[label].append(wall)
                    cpus[label].append(cpu)
        load = os.getloadavg()
        ms = {label: statistics.median(values) * 1000 for label, values in walls.items()}
        cpu_ms = {label: statistics.median(values) * 1000 for label, values in cpus.items()}

        requests: dict[tuple[str, str], int] = {}
        for label, command, cwd, environ in timed:
            who, setting, name, mode = label.split("|")
            if setting == "team" and mode == "bytecode cache":
                before = counter.count
                seconds(command, cwd, environ)
                requests[(who, name)] = counter.count - before

    headers = ["command", "mode", "install", "embedded ms", "team ms", "team / embedded"]
    headers += ["embedded CPU ms", "team CPU ms", "team / embedded CPU", "S3 requests"]
    rows = []
    for mode in modes:
        for name in COMMANDS:
            for who in parities:
                embedded, team = (ms[f"{who}|{s}|{name}|{mode}"] for s in ("embedded", "team"))
                own = [cpu_ms[f"{who}|{s}|{name}|{mode}"] for s in ("embedded", "team")]
                rows.append(
                    [
                        f"parity {name}",
                        mode,
                        who,
                        f"{embedded:.0f}",
                        f"{team:.0f}",
                        f"{team / embedded:.2f}x",
                        f"{own[0]:.0f}",
                        f"{own[1]:.0f}",
                        f"{own[1] / own[0]:.2f}x",
                        requests[(who, name)],
                    ]
                )
    print(table(headers, rows))
    print(
        f"\n{args.runs} runs per workspace; load average after the rounds: "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores); "
        f"medians of {args.rounds} rounds. CPU: the command's own user + system time (not "
        "PostgreSQL's or moto's), which a loaded machine inflates far less than the wall clock."
    )


def wall_and_cpu(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Seconds a fresh process took, on the wall clock and on the CPU (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = seconds(command, cwd, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


if __name__ == "__main__":
    main()
