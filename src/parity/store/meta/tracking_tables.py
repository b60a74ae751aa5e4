"""Tables of experiment tracking: runs, their params, tags, metrics, data and artifacts.

Searches filter and sort on these, so each lookup a filter can make has an index: params and tags
by (key, value), and the latest value of every metric by (key, value, run_id), which makes
"runs where metric > v ordered by metric" a range scan instead of a pass over the history.
The history itself is kept in columnar chunks, written a batch at a time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from parity.core.references import Target
from parity.store.meta.schema import ColumnReference, metadata

experiments = Table(
    "experiments",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("created_ms", BigInteger, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(32), primary_key=True),  # UUID hex: sorts by start second
    Column("experiment", String(200), nullable=False),
    Column("name", String(200), nullable=True),
    Column("status", String(16), nullable=False),
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger, nullable=True),
    Column("user", String(200), nullable=False),
    Column("host", String(200), nullable=True),
    Column("command", Text, nullable=False),  # JSON list of arguments
    Column("code_id", String(64), nullable=True),
    Column("environment_id", String(64), nullable=True),
    Column("parent_id", String(32), nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("deleted_ms", BigInteger, nullable=True),  # soft delete: set, and runs restore clears it
    Index("ix_runs_experiment_start", "experiment", "start_ms"),
    Index("ix_runs_start", "start_ms"),
    Index("ix_runs_status", "status"),
    Index("ix_runs_parent", "parent_id"),
)

run_params = Table(
    "run_params",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    # The value as a number when it reads as one, so params.n > 10 compares numbers.
    Column("number", Float, nullable=True),
    Index("ix_run_params_key_value", "key", "value"),
)

run_tags = Table(
    "run_tags",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Index("ix_run_tags_key_value", "key", "value"),
)

# Every point of every series, in columnar chunks (see parity.tracking.series): one row holds a
# batch of one key's points as packed steps, timestamps and values. ``batch`` is the writer's key
# for the batch, unique per run and metric key, so a batch written twice is stored once (rows
# from before migration t002 have none; NULLs never clash).
run_metric_chunks = Table(
    "run_metric_chunks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False),
    Column("key", String(250), nullable=False),
    Column("first_step", BigInteger, nullable=False),
    Column("last_step", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("batch", String(32), nullable=True),
    Index("ix_run_metric_chunks_run_key", "run_id", "key", "first_step"),
    Index("ix_run_metric_chunks_batch", "run_id", "key", "batch", unique=True),
)

# The latest point per (run, key): highest step, then latest timestamp.
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Float, nullable=True),
    Column("step", BigInteger, nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Index("ix_latest_metrics_key_value_run", "key", "value", "run_id"),
)

# Data versions a run read ("input") or wrote ("output").
run_data = Table(
    "run_data",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("direction", String(8), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("data_version", String(64), nullable=False),
    Index("ix_run_data_version", "data_version"),
)

run_artifacts = Table(
    "run_artifacts",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=True),
    Index("ix_run_artifacts_digest", "digest"),
)

# How a run started (migration t003): the folder relative to the git root and the allow-listed
# numerics variables, as the JSON of ``parity.core.launch.Launch``.
run_launches = Table(
    "run_launches",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("launch", Text, nullable=False),
)

# Seeds the run logged (``run.log_seed``) or Parity set for it (``start_run(seed=…)``).
run_seeds = Table(
    "run_seeds",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

# What each code state record a run names says (migration t004), so reading runs never asks the
# object store: a copy written with the run; the record stays the source of truth. ``document``
# is the record's body as JSON; the columns beside it are what a query may want to filter on.
code_states = Table(
    "code_states",
    metadata,
    Column("code_id", String(64), primary_key=True),
    Column("commit", String(64), nullable=True),
    Column("branch", Text, nullable=True),
    Column("dirty", Boolean, nullable=False),
    Column("diff_digest", String(64), nullable=True),
    Column("document", Text, nullable=False),
)

REFERENCE_COLUMNS = (
    ColumnReference(runs.c.code_id, Target.CODE),
    ColumnReference(runs.c.environment_id, Target.ENVIRONMENT),
    ColumnReference(runs.c.parent_id, Target.RUN),
    ColumnReference(run_params.c.run_id, Target.RUN),
    ColumnReference(run_tags.c.run_id, Target.RUN),
    ColumnReference(run_metric_chunks.c.run_id, Target.RUN),
    ColumnReference(latest_metrics.c.run_id, Target.RUN),
    ColumnReference(run_data.c.run_id, Target.RUN),
    ColumnReference(run_data.c.data_version, Target.DATA_VERSION),  # inputs and outputs
    ColumnReference(run_artifacts.c.run_id, Target.RUN),
    ColumnReference(run_artifacts.c.digest, Target.OBJECT),  # a file's blob, or a model record
    ColumnReference(run_launches.c.run_id, Target.RUN),
    ColumnReference(run_seeds.c.run_id, Target.RUN),
    ColumnReference(code_states.c.commit, Target.COMMIT),
    ColumnReference(code_states.c.diff_digest, Target.OBJECT),
)
# Params, tags and the command are the user's text: an id in them is theirs to mean, not ours.
PLAIN_COLUMNS: tuple[Column[Any], ...] = (
    experiments.c.name,
    runs.c.run_id,
    runs.c.experiment,
    runs.c.name,
    runs.c.status,
    runs.c.user,
    runs.c.host,
    runs.c.command,
    run_params.c.key,
    run_params.c.value,
    run_tags.c.key,
    run_tags.c.value,
    run_metric_chunks.c.key,
    run_metric_chunks.c.data,
    run_metric_chunks.c.batch,
    latest_metrics.c.key,
    run_data.c.direction,
    run_data.c.path,
    run_artifacts.c.path,
    run_artifacts.c.kind,
    run_launches.c.launch,  # a folder name and numerics variables: no ids
    run_seeds.c.key,
    run_seeds.c.value,
    code_states.c.code_id,  # the row's own id: the record it copies
    code_states.c.branch,
    # A copy of the record's body: the record declares what it references (commit, diff, files).
    code_states.c.document,
)


# What a run search reads: the tables whose statistics its plans depend on (see
# ``MetadataStore.refresh_statistics``).
SEARCHED_TABLES = ("runs", "latest_metrics", "run_params", "run_tags")
