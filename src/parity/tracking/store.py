"""The run store: a run's mutable state in the metadata store, written in short transactions.

Every write is one transaction (SQLite: BEGIN IMMEDIATE with a busy timeout), so many processes
can log into one workspace at once; a write that still meets contention is retried (only that:
see ``MetadataStore.transact``). Metric chunks carry a batch key, so writing a batch again after
a commit whose outcome was unknown stores its points once.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from parity.core.errors import ConflictError, NotFoundError, ParityError, UsageError
from parity.core.ids import (
    RUN_RANDOM_BYTES,
    new_run_id,
)
from parity.core.launch import Launch, seed_text
from parity.core.run import (
    CODE_KIND,
    Artifact,
    CodeState,
    DataLink,
    Experiment,
    Metric,
    RunPage,
    RunStatus,
    RunView,
    check_experiment,
    check_key,
    check_run_id,
    resolve_run,
    run_prefix,
    short_run_id,
    value_text,
)
from parity.store.meta.store import dialect_of, insert_ignoring_duplicates
from parity.store.meta.tracking_tables import (
    experiments,
    latest_metrics,
    run_artifacts,
    run_data,
    run_launches,
    run_metric_chunks,
    run_params,
    run_seeds,
    run_tags,
    runs,
)
from parity.tracking import code_index, series
from parity.tracking.buffer import new_batch_key
from parity.tracking.records import remembered
from parity.tracking.search import SearchCursor, run_page_query, run_query
from parity.tracking.short_ids import short_ids
from parity.tracking.views import read_views

if TYPE_CHECKING:
    from parity.core.run_filter import Expression, SortKey
    from parity.store.meta.store import MetadataStore
    from parity.store.records import RecordStore

T = TypeVar("T")
DEFAULT_EXPERIMENT = "default"
# The most runs one page of a search holds.
MAX_PAGE = 1000
KNOWN_RUNS = 100_000


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


class RunStore:
    """Create runs and record what happens in them; read them back as RunViews."""

    def __init__(
        self, meta: MetadataStore, clock: Callable[[], int], records: RecordStore | None = None
    ) -> None:
        self.meta = meta
        self.clock = clock
        self.records = records
        # Code states without a row (runs from before migration t004) are read from the object
        # store, each once, and their rows written after the read (``_copied``).
        self._code = lru_cache(maxsize=256)(self._load_code)
        self._copied: list[dict[str, Any]] = []
        self._copied_lock = threading.Lock()  # a server reads runs in many threads
        self._code_rows: set[str] = set()  # code states whose row is known to exist
        self._known: set[str] = set()  # run ids seen to exist (runs are never removed)
        # Experiments this store wrote or saw (they are never removed): a process starting many
        # runs writes the experiment's row once.
        self._experiments: set[str] = set()

    # writing -----------------------------------------------------------------------------------
    def _write(self, action: Callable[[Connection], T]) -> T:
        """Run ``action`` in a write transaction, retried while other writers hold the database."""
        return self.meta.transact(action)

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
        start_ms: int | None = None,
    ) -> str:
        """A new running run; returns its id (it starts with the start second, so ids sort by
        start time and short prefixes of runs started apart differ).

        A caller that chose ``run_id`` itself (a client that may send the request twice) gets
        the same run back when it exists with the same experiment and user, and a
        ConflictError when another run has that id. ``launch`` is where and with which
        numerics variables it started. ``start_ms`` (default: now) is for runs recorded
        elsewhere first: an import keeps the time the run started there."""
        experiment = check_experiment(experiment or DEFAULT_EXPERIMENT)
        now = self.clock() if start_ms is None else start_ms
        chosen = run_id is not None
        run_id = check_run_id(run_id) if run_id else new_run_id(now, os.urandom(RUN_RANDOM_BYTES))
        row = {
            "run_id": run_id,
            "experiment": experiment,
            "name": name,
            "status": RunStatus.RUNNING.value,
            "start_ms": now,
            "user": user,
            "host": host,
            "command": json.dumps(list(command)),
            "parent_id": parent_id,
            "code_id": code_id,
            "environment_id": environment_id,
        }
        code_row = self._code_row(code_id)

        known_experiment = experiment in self._experiments

        def act(connection: Connection) -> str:
            if not known_experiment:
                insert_ignoring_duplicates(
                    connection, experiments, [{"name": experiment, "created_ms": now}]
                )
            if code_row is not None:
                code_index.write_rows(connection, [code_row])
            if not chosen:
                connection.execute(_INSERT_RUN, row)
                _insert_launch(connection, run_id, launch)
                return run_id
            insert_ignoring_duplicates(connection, runs, [row])
            found = connection.execute(
                select(runs.c.experiment, runs.c.user).where(runs.c.run_id == run_id)
            ).one()
            if tuple(found) != (experiment, user):
                raise ConflictError(
                    f"run {short_run_id(run_id)} already exists", hint="start a run with a new id"
                )
            _insert_launch(connection, run_id, launch)
            return run_id

        created = self._write(act)
        self._wrote_code_row(code_row)
        if len(self._experiments) < KNOWN_RUNS:
            self._experiments.add(experiment)
        return created

    def _code_row(self, code_id: str | None) -> dict[str, Any] | None:
        """The code_states row to write with a run naming ``code_id``, or None when there is
        none to write: no code state, its row is there already, or its record cannot be read
        (a run names it all the same; reading the run then looks for the record again).

        Asked before the write transaction, which must not wait on the object store."""
        if code_id is None or code_id in self._code_rows:
            return None
        state = remembered(code_id)
        if state is None:
            with self.meta.read() as connection:
                if code_index.has_row(connection, code_id):
                    self._code_rows.add(code_id)
                    return None
            if self.records is None:
                return None
            try:  # a server: the client stored the record, so it is read here once
                state = CodeState.from_record(self.records.get(code_id, kind=CODE_KIND))
            except NotFoundError:
                return None
        return code_index.code_row(code_id, state)

    def _wrote_code_row(self, row: Mapping[str, Any] | None) -> None:
        if row is not None:
            if len(self._code_rows) >= KNOWN_RUNS:
                self._code_rows.clear()
            self._code_rows.add(row["code_id"])

    def _update(
        self, run_id: str, code_row: Mapping[str, Any] | None = None, **values: Any
    ) -> None:
        def act(connection: Connection) -> None:
            result = connection.execute(update(runs).where(runs.c.run_id == run_id).values(values))
            if result.rowcount == 0:
                raise NotFoundError(f"no run {run_id}")
            if code_row is not None:
                code_index.write_rows(connection, [code_row])

        self._write(act)
        self._wrote_code_row(code_row)

    def set_sources(self, run_id: str, code_id: str | None, environment_id: str | None) -> None:
        """Attach the captured code state and environment (captured after the run started)."""
        values = {"code_id": code_id} if code_id else {}
        if environment_id:
            values["environment_id"] = environment_id
        if values:
            self._update(run_id, code_row=self._code_row(code_id), **values)

    def end(
        self,
        run_id: str,
        status: RunStatus,
        exit_code: int | None = None,
        *,
        end_ms: int | None = None,
    ) -> None:
        """Mark the run ended, at ``end_ms`` (default: now; a journal sent later names it).

        A run ends once: ending it again the same way (a retried request, a journal sent
        twice) changes nothing, ending it another way is a ConflictError, so nobody rewrites
        how someone else's finished run ended."""
        ended = self.clock() if end_ms is None else end_ms
        columns = runs.c

        def act(connection: Connection) -> None:
            changed = connection.execute(
                _END_RUN,
                {
                    "ended_run": run_id,
                    "was": RunStatus.RUNNING.value,
                    "new_status": status.value,
                    "new_end_ms": ended,
                    "new_exit_code": exit_code,
                },
            )
            if changed.rowcount:
                return
            row = connection.execute(
                select(columns.status, columns.exit_code).where(columns.run_id == run_id)
            ).first()
            if row is None:
                raise NotFoundError(f"no run {run_id}")
            if (row.status, row.exit_code) != (status.value, exit_code):
                code = "" if row.exit_code is None else f" (exit code {row.exit_code})"
                raise ConflictError(
                    f"run {short_run_id(run_id)} already ended {row.status}{code}",
                    hint="a run ends once: start a new run to record another outcome",
                )

        self._write(act)

    def delete(self, run_id: str) -> None:
        """Soft delete: hidden from lists and searches until restored."""
        self._update(run_id, deleted_ms=self.clock())

    def restore(self, run_id: str) -> None:
        self._update(run_id, deleted_ms=None)

    def log_params(self, run_id: str, params: Mapping[str, object]) -> None:
        """Params are set once: the same value again is fine, a different one is a conflict."""
        wanted = {check_key(k, "param name"): value_text(v) for k, v in params.items()}
        if not wanted:
            return

        def act(connection: Connection) -> None:
            existing = dict(
                connection.execute(
                    select(run_params.c.key, run_params.c.value).where(
                        run_params.c.run_id == run_id, run_params.c.key.in_(list(wanted))
                    )
                ).all()
            )
            for key, value in wanted.items():
                if key in existing and existing[key] != value:
                    raise ConflictError(
                        f"param {key!r} of run {short_run_id(run_id)} is already {existing[key]!r}",
                        hint="params are fixed once logged: log a metric or a tag instead",
                    )
            rows = [
                {"run_id": run_id, "key": k, "value": v, "number": _number(v)}
                for k, v in wanted.items()
                if k not in existing
            ]
            if rows:
                connection.execute(insert(run_params), rows)

        self._write(act)

    def log_seeds(self, run_id: str, seeds: Mapping[str, object]) -> None:
        """Seeds, by name: a seed logged again with another value replaces it (a script may
        re-seed), and the last one is what a re-run needs."""
        rows = [
            {"run_id": run_id, "key": check_key(k, "seed name"), "value": seed_text(v)}
            for k, v in seeds.items()
        ]
        if rows:
            self._write(lambda connection: _upsert(connection, run_seeds, rows, ["value"]))

    def set_tags(self, run_id: str, tags: Mapping[str, object]) -> None:
        rows = [
            {"run_id": run_id, "key": check_key(k, "tag name"), "value": value_text(v)}
            for k, v in tags.items()
        ]
        if rows:
            self._write(lambda connection: _upsert(connection, run_tags, rows, ["value"]))

    def log_metrics(self, run_id: str, points: Sequence[Metric], batch: str | None = None) -> None:
        """Append a batch of points and move each key's latest value, in one transaction.

        ``batch`` names the batch (default: a new random key): writing the same batch again,
        after a failure that may have come after its commit, leaves one copy of its points."""
        if not points:
            return
        batch = batch or new_batch_key()
        chunks = [
            {
                "run_id": run_id,
                "key": c.key,
                "batch": batch,
                "first_step": c.first_step,
                "last_step": c.last_step,
                "count": c.count,
                "data": c.data,
            }
            for c in series.encode(points)
        ]
        newest: dict[str, Metric] = {}
        for point in points:
            seen = newest.get(point.key)
            if seen is None or (point.step, point.timestamp_ms) >= (seen.step, seen.timestamp_ms):
                newest[point.key] = point
        latest = [
            {
                "run_id": run_id,
                "key": p.key,
                "value": p.value,
                "step": p.step,
                "timestamp_ms": p.timestamp_ms,
            }
            for p in newest.values()
        ]

        def act(connection: Connection) -> None:
            statement = dialect_of(connection).insert(run_metric_chunks)
            statement = statement.on_conflict_do_nothing(index_elements=["run_id", "key", "batch"])
            if connection.dialect.name == "postgresql":
                # psycopg reports no row count for a batch; RETURNING is cheap there (on SQLite
                # it cost a fifth more per batch, and sqlite3's count is exact).
                returned = connection.execute(statement.returning(run_metric_chunks.c.key), chunks)
                inserted = len(returned.all())
            else:
                inserted = connection.execute(statement, chunks).rowcount
            if inserted != len(chunks):  # some were stored before: a retry, or a reused key
                _check_retry(connection, run_id, batch, chunks)
            # Moving the latest value again for an identical retry changes nothing: it only
            # ever moves forward (see _upsert_latest).
            _upsert_latest(connection, latest)

        self._write(act)

    def add_data(self, run_id: str, direction: str, links: Iterable[DataLink]) -> None:
        if direction not in ("input", "output"):
            raise ValueError(direction)
        rows = [
            {"run_id": run_id, "direction": direction, "path": link.path, "data_version": v}
            for link in links
            for v in (link.data_version,)
        ]
        if rows:
            self._write(lambda connection: _upsert(connection, run_data, rows, ["data_version"]))

    def add_artifact(self, run_id: str, artifact: Artifact) -> None:
        row = {"run_id": run_id, **artifact.to_dict()}
        self._write(lambda c: _upsert(c, run_artifacts, [row], ["kind", "digest", "size"]))

    # reading -----------------------------------------------------------------------------------
    def resolve(self, reference: str) -> str:
        """The run id named by a full id or a unique prefix."""
        prefix = run_prefix(reference)
        return resolve_run(prefix, self.ids_starting(prefix))

    def ids_starting(self, prefix: str, limit: int = 6) -> list[str]:
        """Up to ``limit`` run ids starting with ``prefix`` (deleted runs included)."""
        with self.meta.read() as connection:
            found = connection.execute(
                select(runs.c.run_id)
                .where(runs.c.run_id.startswith(prefix, autoescape=True))
                .order_by(runs.c.run_id)
                .limit(limit)
            ).scalars()
            return [str(run_id) for run_id in found]

    def short_ids(self, run_ids: Iterable[str]) -> dict[str, str]:
        """Each run id with the shortest prefix (at least 8 characters) that no other run of the
        store starts with, deleted runs included: what ``resolve`` takes back (git's way)."""
        with self.meta.read() as connection:
            return short_ids(connection, run_ids)

    def keys(self) -> dict[str, list[str]]:
        """The metric, param and tag keys some run has, sorted: what filters can name."""
        found = {}
        with self.meta.read() as connection:
            for name, table in (
                ("metrics", latest_metrics),
                ("params", run_params),
                ("tags", run_tags),
            ):
                query = select(table.c.key).distinct().order_by(table.c.key)
                found[name] = [str(key) for key in connection.execute(query).scalars()]
        return found

    def experiments(self) -> list[Experiment]:
        """Every experiment by name, with how many runs (not deleted) it holds."""
        counted = (
            select(runs.c.experiment, func.count().label("n"))
            .where(runs.c.deleted_ms.is_(None))
            .group_by(runs.c.experiment)
            .subquery()
        )
        query = (
            select(experiments.c.name, experiments.c.created_ms, counted.c.n)
            .outerjoin(counted, counted.c.experiment == experiments.c.name)
            .order_by(experiments.c.name)
        )
        with self.meta.read() as connection:
            return [
                Experiment(str(name), int(created), int(n or 0))
                for name, created, n in connection.execute(query)
            ]

    def find(self, reference: str) -> RunView:
        """The run named by a full id or a unique prefix."""
        return self.get(self.resolve(reference))

    def exists(self, run_id: str) -> bool:
        with self.meta.read() as connection:
            query = select(runs.c.run_id).where(runs.c.run_id == run_id)
            return connection.execute(query).first() is not None

    def require(self, run_id: str) -> None:
        """NotFoundError unless the run exists; each run is looked up once."""
        if run_id in self._known:
            return
        if not self.exists(run_id):
            raise NotFoundError(f"no run {run_id}", hint="list runs: parity runs list")
        if len(self._known) >= KNOWN_RUNS:
            self._known.clear()
        self._known.add(run_id)

    def get(self, run_id: str) -> RunView:
        views = self.views([run_id])
        if not views:
            raise NotFoundError(f"no run {run_id}", hint="list runs: parity runs list")
        return views[0]

    def artifacts(self, run_id: str) -> list[Artifact]:
        return list(self.get(run_id).artifacts)

    def runs_that_logged(self, digest: str, kind: str) -> list[str]:
        """Ids of the runs that logged an artifact of ``kind`` with ``digest``, oldest first;
        soft-deleted runs are left out."""
        columns = run_artifacts.c
        query = (
            select(columns.run_id, runs.c.start_ms)  # PostgreSQL: DISTINCT needs what it sorts
            .join(runs, runs.c.run_id == columns.run_id)
            .where(columns.digest == digest, columns.kind == kind, runs.c.deleted_ms.is_(None))
            .distinct()
            .order_by(runs.c.start_ms, columns.run_id)
        )
        with self.meta.read() as connection:
            return [str(row[0]) for row in connection.execute(query)]

    def runs_that_read(self, data_version: str) -> list[str]:
        """Ids of the runs that read ``data_version`` (an input), oldest first; soft-deleted
        runs are left out."""
        return self._runs_with_data(data_version, "input")

    def runs_that_wrote(self, data_version: str) -> list[str]:
        """Ids of the runs that wrote ``data_version`` (an output), oldest first; soft-deleted
        runs are left out."""
        return self._runs_with_data(data_version, "output")

    def _runs_with_data(self, data_version: str, direction: str) -> list[str]:
        columns = run_data.c
        query = (
            select(columns.run_id, runs.c.start_ms)  # PostgreSQL: DISTINCT needs what it sorts
            .join(runs, runs.c.run_id == columns.run_id)
            .where(
                columns.data_version == data_version,
                columns.direction == direction,
                runs.c.deleted_ms.is_(None),
            )
            .distinct()
            .order_by(runs.c.start_ms, columns.run_id)
        )
        with self.meta.read() as connection:
            return [str(row[0]) for row in connection.execute(query)]

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one series, by step (then timestamp, then logging order)."""
        return series.series(self._chunks(run_id, key))

    def metric_columns(self, run_id: str, key: str) -> series.SeriesColumns:
        """``metric_history`` as packed columns (a chart's read: no object per point)."""
        return series.series_columns(self._chunks(run_id, key))

    def _chunks(self, run_id: str, key: str) -> list[tuple[str, int, bytes]]:
        """The stored chunks of one series as (key, point count, data), in logging order."""
        columns = run_metric_chunks.c
        query = (
            select(columns.key, columns.count, columns.data)
            .where(columns.run_id == run_id, columns.key == key)
            .order_by(columns.id)
        )
        with self.meta.read() as connection:
            return [(str(k), int(n), bytes(d)) for k, n, d in connection.execute(query)]

    def count_by_status(self) -> dict[str, int]:
        """How many runs there are in each status; soft-deleted runs are not counted."""
        query = (
            select(runs.c.status, func.count())
            .where(runs.c.deleted_ms.is_(None))
            .group_by(runs.c.status)
        )
        with self.meta.read() as connection:
            return {str(status): int(count) for status, count in connection.execute(query)}

    def metric_point_counts(self, run_id: str) -> dict[str, int]:
        """How many points each of the run's metrics has (its stored chunks' counts summed)."""
        columns = run_metric_chunks.c
        query = (
            select(columns.key, func.sum(columns.count))
            .where(columns.run_id == run_id)
            .group_by(columns.key)
        )
        with self.meta.read() as connection:
            return {str(key): int(count) for key, count in connection.execute(query)}

    def count_metric_points(self, run_id: str) -> int:
        columns = run_metric_chunks.c
        query = select(func.coalesce(func.sum(columns.count), 0)).where(columns.run_id == run_id)
        with self.meta.read() as connection:
            return int(connection.execute(query).scalar_one())

    def search(
        self,
        *,
        experiment: str | None = None,
        expression: Expression | None = None,
        sort: Sequence[SortKey] = (),
        limit: int | None = None,
        deleted: bool = False,
    ) -> list[RunView]:
        """Runs matching ``expression``, in ``sort`` order (default: newest first)."""
        query = run_query(
            experiment=experiment, expression=expression, sort=sort, limit=limit, deleted=deleted
        )
        with self.meta.read() as connection:
            ids = [str(run_id) for run_id in connection.execute(query).scalars()]
        return self.views(ids)

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
        """One page of ``search``, in the same order; ``cursor`` (from the page before) names
        where it starts. Runs made or changed meanwhile never repeat a run or skip one that
        kept its place: a page starts after the last run of the page before, by value."""
        if not 1 <= limit <= MAX_PAGE:
            raise UsageError(f"a page holds 1 to {MAX_PAGE} runs, not {limit}")
        position = SearchCursor.of(experiment, expression, sort, deleted)
        after = position.decode(cursor) if cursor else None
        query = run_page_query(
            experiment=experiment,
            expression=expression,
            sort=sort,
            deleted=deleted,
            after=after,
            limit=limit + 1,
        )
        with self.meta.read() as connection:
            rows = [tuple(row) for row in connection.execute(query)]
        following = None
        if len(rows) > limit:
            rows = rows[:limit]
            following = position.encode(rows[-1][1:])
        views = self.views([str(row[0]) for row in rows])
        return RunPage(tuple(views), following)

    def views(self, run_ids: Sequence[str]) -> list[RunView]:
        """RunViews of ``run_ids`` in the same order, read in a handful of queries."""
        with self.meta.read() as connection:
            found = read_views(connection, run_ids, self._code)
        self._copy_code_rows()
        return found

    def _load_code(self, code_id: str) -> Mapping[str, Any]:
        """A code state without a row, from its record; the row is written after the read."""
        if self.records is None:
            return {"id": code_id}
        try:
            state = CodeState.from_record(self.records.get(code_id, kind=CODE_KIND))
        except NotFoundError:
            # A teammate's run, stored in their object store: the view says where to look.
            return {"id": code_id, "missing": True, "looked_in": self.records.objects.url}
        with self._copied_lock:
            self._copied.append(code_index.code_row(code_id, state))
        return {"id": code_id, **state.to_dict()}

    def _copy_code_rows(self) -> None:
        """Write the rows of the code states just read from the object store, so the next read
        finds them in the database."""
        with self._copied_lock:
            rows, self._copied = self._copied, []
        if not rows:
            return
        try:
            self._write(lambda connection: code_index.write_rows(connection, rows))
        except ParityError:
            # Only a copy: a database this user may not write keeps reading the records.
            return
        for row in rows:
            self._wrote_code_row(row)


def _upsert(
    connection: Connection, table: Any, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]
) -> None:
    statement = dialect_of(connection).insert(table)
    keys = [c.name for c in table.primary_key.columns]
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={c: statement.excluded[c] for c in columns}
    )
    connection.execute(statement, list(rows))


def _check_retry(
    connection: Connection, run_id: str, batch: str, chunks: Sequence[Mapping[str, Any]]
) -> None:
    """Refuse a batch key reused for other points (the transaction then stores nothing):
    keeping the first points silently would lose these, storing both would make the key mean
    two batches. Points identical to those stored are a retry."""
    columns = run_metric_chunks.c
    stored = dict(
        connection.execute(
            select(columns.key, columns.data).where(
                columns.run_id == run_id, columns.batch == batch
            )
        ).all()
    )
    for chunk in chunks:
        if stored.get(chunk["key"], chunk["data"]) != chunk["data"]:
            raise ConflictError(
                f"metric batch {batch} of run {run_id} was stored before with other points "
                f"for {chunk['key']!r}",
                hint="give each batch its own key; a retry must send the same points",
            )


def _upsert_latest(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    statement = dialect_of(connection).insert(latest_metrics)
    new = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["run_id", "key"],
        set_={"value": new.value, "step": new.step, "timestamp_ms": new.timestamp_ms},
        where=or_(
            new.step > latest_metrics.c.step,
            and_(
                new.step == latest_metrics.c.step, new.timestamp_ms >= latest_metrics.c.timestamp_ms
            ),
        ),
    )
    connection.execute(statement, list(rows))


# The statements every run writes, built once (see store.insert_ignoring_duplicates).
_INSERT_RUN = insert(runs)
_END_RUN = (
    update(runs)
    .where(runs.c.run_id == bindparam("ended_run"), runs.c.status == bindparam("was"))
    .values(
        status=bindparam("new_status"),
        end_ms=bindparam("new_end_ms"),
        exit_code=bindparam("new_exit_code"),
    )
)


def _insert_launch(connection: Connection, run_id: str, launch: Launch | None) -> None:
    if launch is not None:
        document = json.dumps(launch.to_dict(), sort_keys=True)
        insert_ignoring_duplicates(
            connection, run_launches, [{"run_id": run_id, "launch": document}]
        )
