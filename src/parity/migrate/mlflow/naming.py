"""How MLflow's names become Parity's: run ids, experiment names, keys, and the tags an import
adds. Pure functions: the importer and the verifier map the same way.

An imported run's id is derived from the MLflow run (its start second, then a digest of its
MLflow id), so importing the same run again names the same Parity run: that, not a lookup
table, is what makes a second import add nothing and an interrupted one resume.
"""

from __future__ import annotations

import json
import re

import blake3

from parity.core.ids import RUN_RANDOM_BYTES, new_run_id
from parity.core.run import MAX_KEY_LENGTH, MAX_VALUE_LENGTH
from parity.migrate.mlflow.source import MlflowDatasetInput, MlflowExperiment, MlflowRun

# Tags an import adds to every run it writes (beside the run's own tags, mlflow.* included).
RUN_ID_TAG = "mlflow.run_id"  # the MLflow run it came from
DONE_TAG = "mlflow.import.done"  # set last: the run is wholly imported
EXPERIMENT_ID_TAG = "mlflow.experiment_id"
IMPORT_TAGS = (RUN_ID_TAG, DONE_TAG, EXPERIMENT_ID_TAG)
DATASET_TAG_PREFIX = "mlflow.dataset."
UNKNOWN_USER = "mlflow"

_NOT_KEY = re.compile(r"[^A-Za-z0-9_.\-/ ]")
_NOT_EXPERIMENT = re.compile(r"[^A-Za-z0-9_.\- ]")


def parity_run_id(run: MlflowRun) -> str:
    """The Parity id of an imported MLflow run: the same for the same run, every time."""
    start = run.start_ms if run.start_ms is not None else (run.end_ms or 0)
    random = blake3.blake3(f"mlflow-run:{run.id}".encode()).digest(RUN_RANDOM_BYTES)
    return new_run_id(start, random)


def batch_key(mlflow_run_id: str, index: int) -> str:
    """The key of the ``index``-th metric batch of a run: a rerun writes the same batches."""
    return blake3.blake3(f"mlflow-metrics:{mlflow_run_id}:{index}".encode()).hexdigest()[:32]


def experiment_name(experiment: MlflowExperiment) -> str:
    """A Parity experiment name for an MLflow one: its name where Parity can spell it, with
    ``/`` (Databricks paths) and other characters replaced by ``-``."""
    name = _NOT_EXPERIMENT.sub("-", experiment.name).strip(" -.")[:200]
    if not name or not (name[0].isalnum() or name[0] == "_"):
        name = f"mlflow-{experiment.id}-{name}".rstrip("-")[:200]
    return name


def key(text: str) -> str:
    """A param, tag or metric key as Parity stores it (characters it cannot hold become ``_``)."""
    cleaned = _NOT_KEY.sub("_", text)[:MAX_KEY_LENGTH]
    return cleaned or "_"


def value(text: str) -> str:
    """A param or tag value, cut to the longest Parity keeps."""
    return text if len(text) <= MAX_VALUE_LENGTH else text[:MAX_VALUE_LENGTH]


def dataset_tag(dataset: MlflowDatasetInput) -> tuple[str, str]:
    """A dataset input as a run tag: ``mlflow.dataset.<name>.<digest>`` holding its source,
    context and (when it fits) schema as JSON. MLflow datasets carry no Parity data version,
    so they are recorded, not linked."""
    document: dict[str, str | None] = {
        "name": dataset.name,
        "digest": dataset.digest,
        "source_type": dataset.source_type,
        "source": dataset.source,
        "context": dataset.context,
    }
    text = json.dumps(document, sort_keys=True)
    with_schema = json.dumps({**document, "schema": dataset.schema}, sort_keys=True)
    if dataset.schema and len(with_schema) <= MAX_VALUE_LENGTH:
        text = with_schema
    name = key(f"{DATASET_TAG_PREFIX}{dataset.name}.{dataset.digest}")
    return name, value(text)
