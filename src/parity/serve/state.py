"""Everything a model server holds: the model, its decoder, its checks and its instruments."""

from __future__ import annotations

import functools
import importlib.metadata
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.core.errors import UsageError
from parity.core.model import ModelRecord, ModelVersion
from parity.registry.flavors import flavor_named
from parity.registry.loading import fetch_model_files, read_model_record
from parity.registry.reads import VersionReader
from parity.serve.decoder import RequestDecoder
from parity.serve.golden import GoldenResult, check_golden
from parity.serve.metrics import ServerMetrics
from parity.serve.prediction_log import LogTags, PredictionLog, PredictionSink
from parity.serve.predictor import Predictor
from parity.store.records import RecordStore


@functools.cache
def parity_version() -> str:
    """The installed Parity's version, which /version and /v2 report (read on first ask: the
    lookup walks the installed distributions, a cost start-up need not pay)."""
    try:
        return importlib.metadata.version("parity-ml")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "unknown"


@dataclass
class Readiness:
    """Why the server is, or is not, ready. ``environment_verified`` is None when skipped."""

    environment_verified: bool | None
    environment_report: list[dict[str, Any]] = field(default_factory=list)
    golden: GoldenResult | None = None

    @property
    def ready(self) -> bool:
        return self.environment_verified is not False and (self.golden is None or self.golden.ok)

    @property
    def reasons(self) -> list[str]:
        found = []
        if self.environment_verified is False:
            found.append("the environment differs from the model's at high risk")
        if self.golden is not None and not self.golden.ok:
            found.append(f"golden predictions do not match: {self.golden.reason}")
        return found


@dataclass
class ServingState:
    version: ModelVersion
    alias: str | None
    record: ModelRecord
    predictor: Predictor
    decoder: RequestDecoder
    readiness: Readiness
    metrics: ServerMetrics
    log: PredictionLog | None
    data_versions: tuple[str, ...] = ()
    # With --follow-alias: what the follower reports (alias, switches, a refused version), which
    # /health and /metadata show beside the version answering.
    following: Callable[[], dict[str, Any]] | None = None

    def metadata(self) -> dict[str, Any]:
        document = {
            "model": self.version.name,
            "version": self.version.version,
            "alias": self.alias,
            "model_id": self.version.model_id,
            "run_id": self.version.run_id,
            "flavor": self.record.flavor,
            "environment_id": self.record.environment_id,
            "data_versions": list(self.data_versions),
            "environment_verified": self.readiness.environment_verified,
            "verified": self.readiness.environment_verified is True,
            "golden": self.readiness.golden.to_dict() if self.readiness.golden else None,
            "ready": self.readiness.ready,
            "reasons": self.readiness.reasons,
            "signature": self.record.signature.to_dict() if self.record.signature else None,
        }
        if self.following is not None:
            document["following"] = self.following()
        return document

    def publish_info(self) -> None:
        """Set the ``parity_model_info`` gauge once the checks have decided ``verified``."""
        self.metrics.model_info.clear()
        self.metrics.model_info.labels(
            model=self.version.name,
            version=str(self.version.version),
            environment_id=self.record.environment_id or "",
            data_version=",".join(self.data_versions),
            verified=str(self.readiness.environment_verified is True).lower(),
        ).set(1)
        self.metrics.served_version.set(self.version.version)

    def close(self) -> None:
        if self.log is not None:
            self.log.close()


def build_state(
    registry: VersionReader,
    records: RecordStore,
    clock: Callable[[], int],
    reference: str,
    readiness: Readiness,
    sample_rate: float = 0.1,
    data_versions: tuple[str, ...] = (),
    predictions: PredictionSink | None = None,
    allow_unrestricted_pickle: bool = False,
    metrics: ServerMetrics | None = None,
    alias: str | None = None,
) -> ServingState:
    """Load the model behind ``reference`` (verified byte for byte) and run the golden check.

    ``predictions`` keeps the sampled prediction log (none without it, or at ``sample_rate`` 0).
    A model kept as a plain pickle loads only with ``allow_unrestricted_pickle``. ``metrics``
    shares another state's instruments (a version loaded beside the one answering, which
    publishes itself in them only once it answers); ``alias`` names the alias it is served as
    when ``reference`` names the version itself.
    """
    version = registry.resolve(reference)
    record = read_model_record(records, version.model_id)
    if record.signature is None:
        raise UsageError(
            f"{version.ref} has no signature, so requests cannot be checked",
            hint="log the model with input_example=... and register it again",
        )
    decoder = RequestDecoder.from_signature(record.signature)
    with tempfile.TemporaryDirectory(prefix="parity-serve-") as tmp:
        directory = Path(tmp)
        fetch_model_files(records, record, directory)
        model = flavor_named(record.flavor).load(
            directory, record.loader, allow_unrestricted_pickle=allow_unrestricted_pickle
        )
        predictor = Predictor(model, decoder.columns)
        if record.golden_inputs and record.golden_predictions:
            inputs = json.loads((directory / record.golden_inputs).read_text())
            expected = json.loads((directory / record.golden_predictions).read_text())
            readiness.golden = check_golden(predictor, decoder, inputs, expected)
    shared = metrics is not None
    instruments = metrics if metrics is not None else ServerMetrics()
    tags = LogTags(
        version.name, version.version, record.environment_id, ",".join(data_versions) or None
    )
    log = (
        PredictionLog(
            predictions,
            tags,
            clock=clock,
            sample_rate=sample_rate,
            on_drop=lambda n: instruments.dropped_logs.inc(n),
        )
        if sample_rate > 0 and predictions is not None
        else None
    )
    if alias is None and "@" in reference:
        alias = reference.split("@", 1)[1]
    state = ServingState(
        version, alias, record, predictor, decoder, readiness, instruments, log, data_versions
    )
    if not shared:
        state.publish_info()
    return state
