"""Read an MLflow tracking server through its REST API 2.0 as an MlflowSource.

What is called: ``experiments/search``, ``runs/search`` (paged with ``page_token``),
``metrics/get-history`` (paged), ``artifacts/list`` with downloads through the server's
``/get-artifact`` route (it proxies ``mlflow-artifacts:`` roots itself), ``registered-models/
search`` (which carries aliases and tags), ``model-versions/search``, and for a version's files
``model-versions/get-download-uri``, ``/api/2.0/mlflow-artifacts/artifacts`` listing and the
``/model-versions/get-artifact`` route.

Credentials come from the environment as MLflow's own client reads them: ``MLFLOW_TRACKING_TOKEN``
(sent as a Bearer token) or ``MLFLOW_TRACKING_USERNAME`` and ``MLFLOW_TRACKING_PASSWORD`` (Basic).
They go into request headers only; no message, record or log line holds them.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO
from urllib.parse import urlparse

from parity.core.errors import AccessDenied, NotFoundError, ParityError, StorageError, UsageError
from parity.core.paths import is_contained
from parity.migrate.mlflow.source import (
    MlflowArtifact,
    MlflowDatasetInput,
    MlflowExperiment,
    MlflowMetricPoint,
    MlflowModelVersion,
    MlflowRegisteredModel,
    MlflowRun,
)

API = "/api/2.0/mlflow"
ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
PAGE = 1000
HISTORY_PAGE = 25000
TIMEOUT_S = 60.0
# A JSON answer larger than this is refused: pages are bounded, so only a wrong server sends one.
MAX_JSON_BYTES = 256 * 1024 * 1024
CHUNK = 1024 * 1024
PROXY_SCHEME = "mlflow-artifacts"


def credentials_headers(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Authorization header MLflow's own client would send, from the environment."""
    environ = os.environ if environ is None else environ
    token = environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user, password = (
        environ.get("MLFLOW_TRACKING_USERNAME"),
        environ.get("MLFLOW_TRACKING_PASSWORD"),
    )
    if user and password:
        pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {pair}"}
    return {}


class RestSource:
    """An MlflowSource (and MlflowModelFiles) over ``http(s)://host:port`` of an MLflow server."""

    def __init__(self, uri: str, environ: Mapping[str, str] | None = None) -> None:
        import httpx  # lazy: only an import from a server needs an HTTP client

        parsed = urlparse(uri)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UsageError(f"{uri} is not an MLflow server address", hint="e.g. http://host:5000")
        # Never keep credentials embedded in the address in the description shown in messages.
        shown = parsed._replace(netloc=parsed.hostname or "")
        if parsed.port:
            shown = shown._replace(netloc=f"{parsed.hostname}:{parsed.port}")
        self.description = shown.geturl().rstrip("/")
        self._http = httpx.Client(
            base_url=uri.rstrip("/"),
            headers=credentials_headers(environ),
            timeout=TIMEOUT_S,
            follow_redirects=False,
        )
        self._metric_keys: dict[str, tuple[str, ...]] = {}

    # transport ---------------------------------------------------------------------------------
    def _request(self, method: str, path: str, **options: Any) -> Any:
        import httpx  # lazy: only an import from a server needs an HTTP client

        try:
            response = self._http.request(method, path, **options)
        except httpx.ConnectError as exc:
            raise StorageError(
                f"cannot connect to the MLflow server at {self.description}",
                hint="is the server running, and is the address right (mlflow server --port …)?",
            ) from exc
        except httpx.TimeoutException as exc:
            raise StorageError(
                f"the MLflow server at {self.description} did not answer within {TIMEOUT_S:.0f} s",
                hint="check the server is healthy, then run the import again (it resumes)",
            ) from exc
        except httpx.HTTPError as exc:
            raise StorageError(
                f"talking to the MLflow server at {self.description} failed: {type(exc).__name__}",
                hint="check the address and the network, then run the import again",
            ) from exc
        self._check(response, path)
        return response

    def _check(self, response: Any, path: str) -> None:
        status = response.status_code
        if status < 400:
            return
        detail = _error_text(response)
        if status == 401:
            raise AccessDenied(
                f"the MLflow server at {self.description} refused the credentials (401)",
                hint="set MLFLOW_TRACKING_TOKEN (or MLFLOW_TRACKING_USERNAME and "
                "MLFLOW_TRACKING_PASSWORD) to credentials the server accepts",
            )
        if status == 403:
            raise AccessDenied(
                f"the MLflow server at {self.description} forbids {path} (403){detail}",
                hint="use credentials allowed to read every experiment and model",
            )
        if status == 404:
            raise NotFoundError(
                f"the MLflow server at {self.description} has no {path} (404){detail}",
                hint="is this an MLflow tracking server, serving artifacts (--serve-artifacts)?",
            )
        raise StorageError(
            f"the MLflow server at {self.description} answered {status} to {path}{detail}",
            hint="check the server's log, then run the import again",
        )

    def _json(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        response = self._request(method, path, **options)
        if len(response.content) > MAX_JSON_BYTES:
            raise StorageError(f"the answer to {path} is over {MAX_JSON_BYTES} bytes")
        try:
            document = response.json()
        except ValueError as exc:
            raise StorageError(
                f"the server at {self.description} answered {path} with no JSON",
                hint="is this the address of an MLflow tracking server?",
            ) from exc
        if not isinstance(document, dict):
            raise StorageError(f"the answer to {path} is not a JSON object")
        return document

    def _pages(
        self, method: str, path: str, field: str, query: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = dict(query, **({"page_token": token} if token else {}))
            if method == "GET":
                document = self._json("GET", path, params=page)
            else:
                document = self._json("POST", path, json=page)
            yield from document.get(field) or ()
            token = document.get("next_page_token")
            if not token:
                return

    # experiments and runs ----------------------------------------------------------------------
    def experiments(self) -> Sequence[MlflowExperiment]:
        query = {"max_results": PAGE, "view_type": "ALL"}
        return [
            MlflowExperiment(
                id=str(e["experiment_id"]),
                name=str(e.get("name", "")),
                artifact_location=e.get("artifact_location") or None,
                lifecycle_stage=str(e.get("lifecycle_stage") or "active"),
                created_ms=_int(e.get("creation_time")),
                tags=_tags(e.get("tags")),
            )
            for e in self._pages("POST", f"{API}/experiments/search", "experiments", query)
        ]

    def runs(
        self, experiment_ids: Sequence[str], since_ms: int | None = None
    ) -> Iterator[MlflowRun]:
        if not experiment_ids:
            return
        query: dict[str, Any] = {
            "experiment_ids": list(experiment_ids),
            "run_view_type": "ALL",
            "max_results": PAGE,
            "order_by": ["attributes.start_time ASC"],
        }
        if since_ms is not None:
            query["filter"] = f"attributes.start_time >= {int(since_ms)}"
        for item in self._pages("POST", f"{API}/runs/search", "runs", query):
            run = _run(item)
            metrics = (item.get("data") or {}).get("metrics") or ()
            self._metric_keys[run.id] = tuple(sorted({str(m["key"]) for m in metrics}))
            yield run

    def _keys(self, run_id: str) -> tuple[str, ...]:
        keys = self._metric_keys.get(run_id)
        if keys is None:
            item = self._json("GET", f"{API}/runs/get", params={"run_id": run_id}).get("run", {})
            metrics = (item.get("data") or {}).get("metrics") or ()
            keys = tuple(sorted({str(m["key"]) for m in metrics}))
        return keys

    def metric_history(self, run_id: str) -> Iterator[MlflowMetricPoint]:
        for key in self._keys(run_id):
            query = {"run_id": run_id, "metric_key": key, "max_results": HISTORY_PAGE}
            for point in self._pages("GET", f"{API}/metrics/get-history", "metrics", query):
                yield MlflowMetricPoint(
                    key=key,
                    value=_float(point.get("value")),
                    step=int(point.get("step") or 0),
                    timestamp_ms=int(point.get("timestamp") or 0),
                )

    # artifacts ---------------------------------------------------------------------------------
    def artifacts(self, run: MlflowRun) -> Iterator[MlflowArtifact]:
        def listing(path: str) -> Iterator[dict[str, Any]]:
            query = {"run_id": run.id, **({"path": path} if path else {})}
            yield from self._pages("GET", f"{API}/artifacts/list", "files", query)

        yield from _walk(listing, relative_names=False)

    def open_artifact(self, run: MlflowRun, path: str) -> BinaryIO:
        _check_relative(path)
        return self._download("/get-artifact", {"path": path, "run_uuid": run.id})

    def _download(self, route: str, params: Mapping[str, str]) -> BinaryIO:
        """The body of a GET, spooled to a temporary file (in memory while small)."""
        import httpx  # lazy: only an import from a server needs an HTTP client

        spool = tempfile.SpooledTemporaryFile(max_size=8 * CHUNK)  # noqa: SIM115 - returned
        try:
            with self._http.stream("GET", route, params=dict(params)) as response:
                if response.status_code >= 400:
                    response.read()
                    self._check(response, route)
                for chunk in response.iter_bytes(CHUNK):
                    spool.write(chunk)
        except httpx.HTTPError as exc:
            spool.close()
            raise StorageError(
                f"downloading from the MLflow server at {self.description} failed: "
                f"{type(exc).__name__}",
                hint="is the server running? then run the import again (it resumes)",
            ) from exc
        except ParityError:
            spool.close()
            raise
        spool.seek(0)
        return spool  # type: ignore[return-value]

    # registry ----------------------------------------------------------------------------------
    def registered_models(self) -> Sequence[MlflowRegisteredModel]:
        found = []
        query = {"max_results": PAGE}
        path = f"{API}/registered-models/search"
        for m in self._pages("GET", path, "registered_models", query):
            found.append(
                MlflowRegisteredModel(
                    name=str(m["name"]),
                    created_ms=_int(m.get("creation_timestamp")),
                    updated_ms=_int(m.get("last_updated_timestamp")),
                    description=m.get("description") or None,
                    tags=_tags(m.get("tags")),
                    aliases={str(a["alias"]): str(a["version"]) for a in m.get("aliases") or ()},
                )
            )
        return found

    def model_versions(self, name: str) -> Sequence[MlflowModelVersion]:
        quoted = name.replace("'", "\\'")
        query = {"filter": f"name='{quoted}'", "max_results": PAGE}
        found = []
        for v in self._pages("GET", f"{API}/model-versions/search", "model_versions", query):
            stage = v.get("current_stage")
            found.append(
                MlflowModelVersion(
                    name=str(v["name"]),
                    version=str(v["version"]),
                    created_ms=_int(v.get("creation_timestamp")),
                    updated_ms=_int(v.get("last_updated_timestamp")),
                    user=v.get("user_id") or None,
                    description=v.get("description") or None,
                    source=v.get("source") or None,
                    run_id=v.get("run_id") or None,
                    status=v.get("status") or None,
                    stage=None if stage in (None, "", "None") else str(stage),
                    tags=_tags(v.get("tags")),
                )
            )
        return sorted(found, key=lambda v: int(v.version) if v.version.isdigit() else 0)

    def _download_uri(self, version: MlflowModelVersion) -> str:
        query = {"name": version.name, "version": version.version}
        document = self._json("GET", f"{API}/model-versions/get-download-uri", params=query)
        return str(document.get("artifact_uri") or "")

    def model_files(self, version: MlflowModelVersion) -> Iterator[MlflowArtifact]:
        uri = self._download_uri(version)
        parsed = urlparse(uri)
        if parsed.scheme == PROXY_SCHEME:
            root = parsed.path.strip("/")

            def listing(path: str) -> Iterator[dict[str, Any]]:
                query = {"path": f"{root}/{path}" if path else root}
                yield from self._pages("GET", ARTIFACTS_API, "files", query)

            yield from _walk(listing, relative_names=True)
            return
        if version.source and version.source.startswith("runs:/"):
            run_id, _, prefix = version.source.removeprefix("runs:/").partition("/")
            run = _run(self._json("GET", f"{API}/runs/get", params={"run_id": run_id})["run"])
            for artifact in self.artifacts(run):
                if not prefix or artifact.path.startswith(prefix.rstrip("/") + "/"):
                    inner = (
                        artifact.path[len(prefix.rstrip("/")) + 1 :] if prefix else artifact.path
                    )
                    yield MlflowArtifact(path=inner, size=artifact.size)
            return
        raise UsageError(
            f"the files of {version.name} version {version.version} live at {uri}, "
            "which the server does not proxy",
            hint="start the MLflow server with --serve-artifacts, or import from its stores",
        )

    def open_model_file(self, version: MlflowModelVersion, path: str) -> BinaryIO:
        _check_relative(path)
        params = {"path": path, "name": version.name, "version": version.version}
        return self._download("/model-versions/get-artifact", params)

    def close(self) -> None:
        self._http.close()


def _walk(
    listing: Any, *, relative_names: bool, prefix: str = "", depth: int = 0
) -> Iterator[MlflowArtifact]:
    """Files under a listing, recursively; ``relative_names`` when entries hold base names."""
    if depth > 64:
        raise StorageError("artifact folders nest deeper than 64 levels", hint="check the store")
    for entry in listing(prefix):
        name = str(entry.get("path", ""))
        path = f"{prefix}/{name}" if relative_names and prefix else name
        _check_relative(path)
        if entry.get("is_dir"):
            yield from _walk(listing, relative_names=relative_names, prefix=path, depth=depth + 1)
        else:
            yield MlflowArtifact(path=path, size=_int(entry.get("file_size")))


def _check_relative(path: str) -> None:
    if not is_contained(path):
        raise UsageError(
            f"artifact path {path!r} is not a plain relative path",
            hint="artifact paths never hold '..' or start with '/'",
        )


def _run(item: Mapping[str, Any]) -> MlflowRun:
    info = item.get("info") or {}
    data = item.get("data") or {}
    tags = _tags(data.get("tags"))
    inputs = []
    for entry in (item.get("inputs") or {}).get("dataset_inputs") or ():
        dataset = entry.get("dataset") or {}
        input_tags = _tags(entry.get("tags"))
        inputs.append(
            MlflowDatasetInput(
                name=str(dataset.get("name", "")),
                digest=str(dataset.get("digest", "")),
                source_type=str(dataset.get("source_type", "")),
                source=str(dataset.get("source", "")),
                schema=dataset.get("schema") or None,
                profile=dataset.get("profile") or None,
                context=input_tags.get("mlflow.data.context"),
            )
        )
    return MlflowRun(
        id=str(info.get("run_id") or info.get("run_uuid")),
        experiment_id=str(info.get("experiment_id", "")),
        name=info.get("run_name") or tags.get("mlflow.runName"),
        status=str(info.get("status", "")),
        start_ms=_int(info.get("start_time")),
        end_ms=_int(info.get("end_time")),
        user=info.get("user_id") or None,
        lifecycle_stage=str(info.get("lifecycle_stage") or "active"),
        artifact_uri=info.get("artifact_uri") or None,
        params={str(p["key"]): str(p.get("value", "")) for p in data.get("params") or ()},
        tags=tags,
        inputs=tuple(inputs),
    )


def _tags(entries: object) -> dict[str, str]:
    if not isinstance(entries, list):
        return {}
    return {str(t["key"]): str(t.get("value", "")) for t in entries if isinstance(t, dict)}


def _int(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def _float(value: object) -> float:
    # MLflow's JSON writes NaN and the infinities as the strings "NaN", "Infinity", "-Infinity".
    if isinstance(value, str):
        return float({"Infinity": "inf", "-Infinity": "-inf"}.get(value, value))
    return float(value)  # type: ignore[arg-type]


def _error_text(response: Any) -> str:
    """The server's own error message (never a header, so never a credential), shortened."""
    try:
        message = response.json().get("message")
    except (ValueError, AttributeError):
        message = None
    return f": {str(message)[:200]}" if message else ""
