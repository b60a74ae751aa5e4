"""The run store of a workspace in team mode: ``RunRepository`` over a Parity server's REST API.

Each method is one call (a search, one per page) to the routes of ``parity.server.routes_runs``,
and raises what ``RunStore`` raises for the same request: the server sends errors back with
their exit codes, and the checks whose exact exception matters (a run id prefix, an ambiguous
one, a bad key) are made here the same way before anything is sent.

Every write may be sent again: a run's id is chosen here, a batch of metric points carries its
key, and params, tags, data links, artifacts and ends are set, not added. So the client retries
them all after a lost connection, and a retried request changes nothing twice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from parity.core.errors import NotFoundError, UsageError
from parity.core.ids import RUN_RANDOM_BYTES, new_run_id
from parity.core.launch import Launch, seed_text
from parity.core.run import (
    Artifact,
    DataLink,
    Experiment,
    Metric,
    RunPage,
    RunStatus,
    RunView,
    check_experiment,
    check_key,
    resolve_run,
    run_prefix,
    value_text,
)
from parity.core.run_filter import format_filter, format_sort
from parity.store.http.client import ServerClient, segment
from parity.tracking.buffer import new_batch_key
from parity.tracking.columns import batch_document, history_points

if TYPE_CHECKING:
    from parity.core.run_filter import Expression, SortKey

DEFAULT_EXPERIMENT = "default"
# Runs per page when a search reads every page; the server's largest page.
PAGE = 1000
# Run ids per short-ids call: the query string stays well under a server's line limit.
IDS_PER_CALL = 100


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class RemoteRunStore:
    """Runs kept by the Parity server that ``client`` calls."""

    def __init__(self, client: ServerClient, clock: Callable[[], int] = _now_ms) -> None:
        self.client = client
        self.clock = clock

    # writing -----------------------------------------------------------------------------------
    def create(
        self,
        *,
        experiment: str | None,
        name: str | None,
        user: str,
        host: str | None,
        command: Sequence[str],
        parent_id: str | None = None,
        code_id: str | None = None,
        environment_id: str | None = None,
        run_id: str | None = None,
        launch: Launch | None = None,
    ) -> str:
        """A new running run. Its user is the one the server knows the token by (``user`` is
        what an embedded store would record; the server records its caller)."""
        experiment = check_experiment(experiment or DEFAULT_EXPERIMENT)
        body = {
            "run_id": run_id or new_run_id(self.clock(), os.urandom(RUN_RANDOM_BYTES)),
            "name": name,
            "host": host,
            "command": list(command),
            "parent_id": parent_id,
            "code_id": code_id,
            "environment_id": environment_id,
            "launch": None if launch is None else launch.to_dict(),
        }
        made = self.client.post(f"/experiments/{segment(experiment)}/runs", body, retry=True)
        return str(made["run_id"])

    def _run_path(self, run_id: str, tail: str = "") -> str:
        return f"/runs/{segment(run_id)}{tail}"

    def _patch(self, run_id: str, body: Mapping[str, Any]) -> None:
        self.client.json("PATCH", self._run_path(run_id), json=dict(body), retry=True)

    def set_sources(self, run_id: str, code_id: str | None, environment_id: str | None) -> None:
        values = {"code_id": code_id} if code_id else {}
        if environment_id:
            values["environment_id"] = environment_id
        if values:
            self._patch(run_id, values)

    def end(
        self,
        run_id: str,
        status: RunStatus,
        exit_code: int | None = None,
        *,
        end_ms: int | None = None,
    ) -> None:
        self._patch(
            run_id,
            {"status": status.value, "exit_code": exit_code, "end_ms": end_ms or self.clock()},
        )

    def delete(self, run_id: str) -> None:
        self.client.delete(self._run_path(run_id))

    def restore(self, run_id: str) -> None:
        self.client.post(self._run_path(run_id, "/restore"), {}, retry=True)

    def log_params(self, run_id: str, params: Mapping[str, object]) -> None:
        wanted = {check_key(k, "param name"): value_text(v) for k, v in params.items()}
        if wanted:
            self.client.post(self._run_path(run_id, "/params"), {"params": wanted}, retry=True)

    def log_seeds(self, run_id: str, seeds: Mapping[str, object]) -> None:
        wanted = {check_key(k, "seed name"): seed_text(v) for k, v in seeds.items()}
        if wanted:
            self.client.post(self._run_path(run_id, "/seeds"), {"seeds": wanted}, retry=True)

    def views(self, run_ids: Sequence[str]) -> list[RunView]:
        return [self.get(run_id) for run_id in run_ids]

    def set_tags(self, run_id: str, tags: Mapping[str, object]) -> None:
        wanted = {check_key(k, "tag name"): value_text(v) for k, v in tags.items()}
        if wanted:
            self.client.post(self._run_path(run_id, "/tags"), {"tags": wanted}, retry=True)

    def log_metrics(self, run_id: str, points: Sequence[Metric], batch: str | None = None) -> None:
        """Send a batch of points with its key: sent again, it is stored once."""
        if not points:
            return
        for key in {p.key for p in points}:
            check_key(key, "metric name")
        self.send_batch(run_id, batch_document(points, batch or new_batch_key()))

    def send_batch(self, run_id: str, document: Mapping[str, Any]) -> None:
        """Send a batch already in its JSON columns (``columns.batch_document``)."""
        self.client.post(self._run_path(run_id, "/metrics"), document, retry=True)

    def add_data(self, run_id: str, direction: str, links: Iterable[DataLink]) -> None:
        if direction not in ("input", "output"):
            raise ValueError(direction)
        listed = [link.to_dict() for link in links]
        if listed:
            body = {"direction": direction, "links": listed}
            self.client.post(self._run_path(run_id, "/data"), body, retry=True)

    def add_artifact(self, run_id: str, artifact: Artifact) -> None:
        self.client.post(self._run_path(run_id, "/artifacts"), artifact.to_dict(), retry=True)

    # reading -----------------------------------------------------------------------------------
    def resolve(self, reference: str) -> str:
        prefix = run_prefix(reference)
        return resolve_run(prefix, self.ids_starting(prefix))

    def ids_starting(self, prefix: str, limit: int = 6) -> list[str]:
        found = self.client.get("/runs/ids", params={"prefix": prefix, "limit": limit})
        return [str(run_id) for run_id in found["run_ids"]]

    def short_ids(self, run_ids: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(run_ids))
        shown: dict[str, str] = {}
        for start in range(0, len(wanted), IDS_PER_CALL):
            part = wanted[start : start + IDS_PER_CALL]
            found = self.client.get("/runs/short-ids", params={"id": part})
            shown.update(found["short_ids"])
        return shown

    def keys(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = self.client.get("/runs/keys")
        return found

    def experiments(self) -> list[Experiment]:
        return [Experiment(**item) for item in self.client.get("/experiments")["experiments"]]

    def find(self, reference: str) -> RunView:
        return self.get(self.resolve(reference))

    def exists(self, run_id: str) -> bool:
        try:
            self.get(run_id)
        except NotFoundError:
            return False
        return True

    def get(self, run_id: str) -> RunView:
        return RunView.from_dict(self.client.get(self._run_path(run_id)))

    def artifacts(self, run_id: str) -> list[Artifact]:
        found = self.client.get(self._run_path(run_id, "/artifacts"))
        return [Artifact(**item) for item in found["artifacts"]]

    def runs_that_logged(self, digest: str, kind: str) -> list[str]:
        found = self.client.get(f"/artifacts/{segment(digest)}/runs", params={"kind": kind})
        return [str(run_id) for run_id in found["run_ids"]]

    def runs_that_read(self, data_version: str) -> list[str]:
        found = self.client.get(f"/data/versions/{segment(data_version)}/runs")
        return [str(run_id) for run_id in found["run_ids"]]

    def runs_that_wrote(self, data_version: str) -> list[str]:
        found = self.client.get(
            f"/data/versions/{segment(data_version)}/runs", params={"direction": "output"}
        )
        return [str(run_id) for run_id in found["run_ids"]]

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        path = self._run_path(run_id, f"/metrics/{segment(check_key(key, 'metric name'))}/history")
        return history_points(key, self.client.get(path)["points"])

    def metric_buckets(self, run_id: str, key: str, buckets: int) -> dict[str, Any]:
        """The server's downsampled history of one series: columns, one entry per bucket."""
        path = self._run_path(run_id, f"/metrics/{segment(check_key(key, 'metric name'))}/history")
        found: dict[str, Any] = self.client.get(path, params={"buckets": buckets})["buckets"]
        return found

    def count_by_status(self) -> dict[str, int]:
        found: dict[str, int] = self.client.get("/runs/counts")["counts"]
        return found

    def count_metric_points(self, run_id: str) -> int:
        return int(self.client.get(self._run_path(run_id, "/metrics/count"))["points"])

    def metric_point_counts(self, run_id: str) -> dict[str, int]:
        # An older server answers without by_key: no counts, and the UI draws every chart.
        found = self.client.get(self._run_path(run_id, "/metrics/count")).get("by_key", {})
        return {str(key): int(count) for key, count in found.items()}

    def search(
        self,
        *,
        experiment: str | None = None,
        expression: Expression | None = None,
        sort: Sequence[SortKey] = (),
        limit: int | None = None,
        deleted: bool = False,
    ) -> list[RunView]:
        """Every matching run (up to ``limit``), reading page after page."""
        if limit is not None and limit < 1:
            raise UsageError(f"--limit must be at least 1, got {limit}")
        found: list[RunView] = []
        cursor: str | None = None
        while limit is None or len(found) < limit:
            wanted = PAGE if limit is None else min(PAGE, limit - len(found))
            page = self.search_page(
                experiment=experiment,
                expression=expression,
                sort=sort,
                limit=wanted,
                deleted=deleted,
                cursor=cursor,
            )
            found += page.runs
            cursor = page.cursor
            if cursor is None:
                break
        return found

    def search_page(
        self,
        *,
        experiment: str | None = None,
        expression: Expression | None = None,
        sort: Sequence[SortKey] = (),
        limit: int = 100,
        deleted: bool = False,
        cursor: str | None = None,
    ) -> RunPage:
        params: dict[str, Any] = {"limit": limit, "sort": [format_sort(key) for key in sort]}
        if experiment is not None:
            params["experiment"] = experiment
        if expression is not None:
            params["filter"] = format_filter(expression)
        if deleted:
            params["deleted"] = "true"
        if cursor:
            params["cursor"] = cursor
        found = self.client.get("/runs", params=params)
        return RunPage(tuple(RunView.from_dict(r) for r in found["runs"]), found.get("cursor"))
