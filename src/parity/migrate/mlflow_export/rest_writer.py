"""Writing into an MLflow tracking server through its REST API (2.0), the one stable way in.

MLflow's REST API is what its own client speaks to a server, so anything written here reads back
with ``MlflowClient`` exactly as if MLflow had logged it. Only what an export needs is here.
Credentials come from MLflow's own variables and are sent, never stored or printed.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit, urlunsplit
from urllib.request import url2pathname

import httpx

from parity.core.errors import ConflictError, NotFoundError, StorageError, UsageError

API = "/api/2.0/mlflow"
ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
PROXIED_SCHEME = "mlflow-artifacts:"
# MLflow's limits for one log-batch call (its documented maxima).
BATCH_METRICS = 1000
BATCH_PARAMS = 100
BATCH_TAGS = 100
TIMEOUT = httpx.Timeout(60.0, connect=10.0)


@dataclass(frozen=True)
class MlflowRunRef:
    run_id: str
    experiment_id: str
    artifact_uri: str
    status: str
    tags: Mapping[str, str]
    deleted: bool = False


def credentials() -> dict[str, str]:
    """Headers for MLflow's token or basic auth, from MLFLOW_TRACKING_TOKEN or USERNAME/PASSWORD."""
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if user and password:
        basic = httpx.BasicAuth(user, password)
        request = next(basic.auth_flow(httpx.Request("GET", "http://x")))
        return {"Authorization": request.headers["Authorization"]}
    return {}


class MlflowWriter:
    """One MLflow server, written to over a keep-alive connection."""

    def __init__(
        self,
        base_url: str,
        *,
        local_artifacts: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        headers = credentials()
        if parts.username is not None:  # user:password in the URL: sent as Basic auth, never shown
            basic = httpx.BasicAuth(unquote(parts.username), unquote(parts.password or ""))
            request = next(basic.auth_flow(httpx.Request("GET", "http://x")))
            headers = {"Authorization": request.headers["Authorization"]}
            host = parts.hostname or ""
            parts = parts._replace(netloc=host + (f":{parts.port}" if parts.port else ""))
        self.base_url = urlunsplit(parts)
        # A server this export started over a local store: its artifact folders are ours to write.
        self.local_artifacts = local_artifacts
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=TIMEOUT, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    # the wire ------------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise StorageError(
                f"cannot reach the MLflow server at {self.base_url}: {exc}",
                hint="check that it is running and the URL is right",
            ) from exc
        if response.status_code < 400:
            return response.json() if response.content else {}
        try:
            body = response.json()
        except ValueError:
            body = {}
        code = str(body.get("error_code", ""))
        message = str(body.get("message", response.text[:200]))
        if response.status_code in (401, 403):
            raise UsageError(
                f"the MLflow server at {self.base_url} refused us ({response.status_code})",
                hint="set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and _PASSWORD",
            )
        if code == "RESOURCE_DOES_NOT_EXIST" or response.status_code == 404:
            raise NotFoundError(f"MLflow: {message}", hint="check the name or id")
        if code == "RESOURCE_ALREADY_EXISTS":
            raise ConflictError(f"MLflow: {message}", hint="it exists already")
        if code == "INVALID_PARAMETER_VALUE" or response.status_code == 400:
            raise UsageError(f"MLflow refused a value: {message}", hint="see the message")
        raise StorageError(
            f"the MLflow server at {self.base_url} failed ({response.status_code}): {message}",
            hint="see the MLflow server's log",
        )

    # experiments and runs ------------------------------------------------------------------
    def experiment_id(self, name: str) -> str:
        """The id of the experiment called ``name``, created when it does not exist."""
        try:
            found = self._call(
                "GET", f"{API}/experiments/get-by-name", params={"experiment_name": name}
            )
            return str(found["experiment"]["experiment_id"])
        except NotFoundError:
            created = self._call("POST", f"{API}/experiments/create", json={"name": name})
            return str(created["experiment_id"])

    def find_runs(self, experiment_id: str, tag: str, value: str) -> list[MlflowRunRef]:
        """The runs of the experiment, deleted ones too, whose tag ``tag`` equals ``value``."""
        quoted = value.replace("'", "")
        body = {
            "experiment_ids": [experiment_id],
            "filter": f"tags.`{tag}` = '{quoted}'",
            "run_view_type": "ALL",
            "max_results": 50,
        }
        runs = self._call("POST", f"{API}/runs/search", json=body).get("runs", [])
        return [_run_ref(run) for run in runs]

    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None,
        start_ms: int,
        user: str | None,
        tags: Mapping[str, str],
    ) -> MlflowRunRef:
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "start_time": start_ms,
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        }
        if name:
            body["run_name"] = name
        if user:
            body["user_id"] = user
        return _run_ref(self._call("POST", f"{API}/runs/create", json=body)["run"])

    def delete_run(self, run_id: str) -> None:
        self._call("POST", f"{API}/runs/delete", json={"run_id": run_id})

    def log_batch(
        self,
        run_id: str,
        *,
        params: Mapping[str, str] = {},
        tags: Mapping[str, str] = {},
        metrics: Sequence[tuple[str, float | None, int, int]] = (),
    ) -> int:
        """Log everything in calls within MLflow's batch limits; returns the number of calls."""
        calls = 0
        for body in _batches(params, tags, metrics):
            self._call("POST", f"{API}/runs/log-batch", json={"run_id": run_id, **body})
            calls += 1
        return calls

    def log_inputs(self, run_id: str, inputs: Sequence[tuple[str, str]]) -> None:
        """Each data version a run read, as an MLflow dataset input (source type ``parity``)."""
        if not inputs:
            return
        datasets = [
            {
                "tags": [{"key": "mlflow.data.context", "value": "input"}],
                "dataset": {
                    "name": path,
                    "digest": version[:36],
                    "source_type": "parity",
                    "source": json.dumps({"path": path, "data_version": version}),
                },
            }
            for path, version in inputs
        ]
        self._call("POST", f"{API}/runs/log-inputs", json={"run_id": run_id, "datasets": datasets})

    def end_run(self, run_id: str, status: str, end_ms: int | None) -> None:
        body: dict[str, Any] = {"run_id": run_id, "status": status}
        if end_ms is not None:
            body["end_time"] = end_ms
        self._call("POST", f"{API}/runs/update", json=body)

    def upload_artifact(self, run: MlflowRunRef, path: str, content: IO[bytes]) -> None:
        """One file under the run's artifact root: PUT through the server's artifact proxy, or
        written into the root's folder when the store is local."""
        if run.artifact_uri.startswith(PROXIED_SCHEME):
            root = run.artifact_uri[len(PROXIED_SCHEME) :].lstrip("/")
            self._call("PUT", f"{ARTIFACTS_API}/{root}/{path}", content=content)
            return
        folder = _local_folder(run.artifact_uri) if self.local_artifacts else None
        if folder is None:
            raise UsageError(
                f"the MLflow server keeps artifacts at {run.artifact_uri}, which this export "
                "cannot write to",
                hint="start the MLflow server with --serve-artifacts, or export to its store",
            )
        write_atomically(folder / path, content)

    # the registry --------------------------------------------------------------------------
    def ensure_registered_model(self, name: str, description: str | None) -> None:
        body: dict[str, Any] = {"name": name}
        if description:
            body["description"] = description
        with contextlib.suppress(ConflictError):  # there already: versions are added to it
            self._call("POST", f"{API}/registered-models/create", json=body)

    def model_versions(self, name: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"filter": f"name='{name}'", "max_results": 200}
            if token:
                params["page_token"] = token
            page = self._call("GET", f"{API}/model-versions/search", params=params)
            found.extend(page.get("model_versions", []))
            token = page.get("next_page_token")
            if not token:
                return found

    def create_model_version(
        self,
        name: str,
        *,
        source: str,
        run_id: str | None,
        description: str | None,
        tags: Mapping[str, str],
    ) -> str:
        body: dict[str, Any] = {
            "name": name,
            "source": source,
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        }
        if run_id:
            body["run_id"] = run_id
        if description:
            body["description"] = description
        created = self._call("POST", f"{API}/model-versions/create", json=body)
        return str(created["model_version"]["version"])

    def set_alias(self, name: str, alias: str, version: str) -> None:
        body = {"name": name, "alias": alias, "version": version}
        self._call("POST", f"{API}/registered-models/alias", json=body)


def _run_ref(run: Mapping[str, Any]) -> MlflowRunRef:
    info = run["info"]
    tags = {t["key"]: t.get("value", "") for t in run.get("data", {}).get("tags", [])}
    return MlflowRunRef(
        run_id=str(info["run_id"]),
        experiment_id=str(info["experiment_id"]),
        artifact_uri=str(info.get("artifact_uri", "")),
        status=str(info.get("status", "")),
        tags=tags,
        deleted=info.get("lifecycle_stage") == "deleted",
    )


def _metric_value(value: float | None) -> float | str:
    # JSON has no NaN or infinity; MLflow's protobuf JSON parser takes them as strings.
    if value is None or math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _batches(
    params: Mapping[str, str],
    tags: Mapping[str, str],
    metrics: Sequence[tuple[str, float | None, int, int]],
) -> Iterator[dict[str, Any]]:
    param_items = [{"key": k, "value": v} for k, v in params.items()]
    tag_items = [{"key": k, "value": v} for k, v in tags.items()]
    for start in range(0, len(param_items), BATCH_PARAMS):
        yield {"params": param_items[start : start + BATCH_PARAMS]}
    for start in range(0, len(tag_items), BATCH_TAGS):
        yield {"tags": tag_items[start : start + BATCH_TAGS]}
    for start in range(0, len(metrics), BATCH_METRICS):
        yield {
            "metrics": [
                {"key": key, "value": _metric_value(value), "step": step, "timestamp": ts}
                for key, value, step, ts in metrics[start : start + BATCH_METRICS]
            ]
        }


def _local_folder(uri: str) -> Path | None:
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return Path(url2pathname(parts.path))
    if parts.scheme == "" and uri.startswith("/"):
        return Path(uri)
    return None


def write_atomically(destination: Path, content: IO[bytes]) -> None:
    """Copy ``content`` to ``destination`` through a temporary file, fsynced, then renamed."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=".parity-")
    try:
        with os.fdopen(handle, "wb") as out:
            shutil.copyfileobj(content, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
