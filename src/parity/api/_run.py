"""The ``Run`` a training script logs into, and how one begins (``parity.api.runs`` is the door).

``begin_run`` is shared by ``parity.api.runs.start`` and ``parity run``; it is not public.
"""

from __future__ import annotations

import atexit
import json
import socket
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from parity.api._infra import infra_patterns, link_infra
from parity.core.errors import ConflictError, NotFoundError, UsageError
from parity.core.model import DEFAULT_MODEL_PATH, MODEL_KIND
from parity.core.run import Artifact, DataLink, Metric, RunStatus, check_key, short_run_id
from parity.tracking.buffer import DEFAULT_INTERVAL_SECONDS, MetricBuffer
from parity.tracking.delivery import Delivery
from parity.tracking.journal import JOURNAL_DIR
from parity.tracking.launch import files_named, files_read_here, launch_here, seed_libraries
from parity.tracking.lifecycle import RunTerminated, TerminationGuard
from parity.tracking.repository import RunWriter
from parity.tracking.run_journal import RunJournal
from parity.tracking.sources import SourceCapture
from parity.workspace import Workspace, now_ms

RUN_ID_VARIABLE = "PARITY_RUN_ID"
WORKSPACE_VARIABLE = "PARITY_WORKSPACE"
ERROR_TAG = "error"
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


class Run:
    """An active run, from ``parity.start_run``. Metrics are buffered and written in batches.

    >>> run = parity.start_run(experiment="churn")    # doctest: +SKIP
    >>> run.log_metric("loss", 0.42, step=1)          # doctest: +SKIP
    >>> run.end()                                     # doctest: +SKIP

    In team mode (a workspace using a Parity server) params, tags, metric batches, data links,
    artifacts and the end go to the run's journal in ``.parity/journal`` first, and a
    background thread sends them: a server that is down or slow never fails or holds up the
    training. Metric points reach the journal every ``interval`` (1 s), which is fsync'd then
    and at the run's end; a process killed after ``log_metric`` returned loses at most the
    points of that last interval. What the run could not send by its end stays in the journal
    for ``parity runs sync``.
    """

    def __init__(
        self,
        workspace: Workspace,
        run_id: str,
        *,
        owns_run: bool,
        owns_workspace: bool,
        sources: SourceCapture | None,
        guard: bool = True,
        interval: float = DEFAULT_INTERVAL_SECONDS,
    ) -> None:
        self.workspace = workspace
        self.id = run_id
        self.store = workspace.runs
        self._owns_run = owns_run
        self._owns_workspace = owns_workspace
        self._sources = sources
        self._journal: RunJournal | None = None
        self._writer: RunWriter = self.store
        if workspace.server_url is not None:
            self._journal = RunJournal(
                workspace.parity_dir / JOURNAL_DIR,
                run_id,
                self.store,
                workspace.server_url,
                now_ms,
                interval,
            )
            self._writer = self._journal
        self._buffer = MetricBuffer(self._write_metrics, interval)
        self._steps: dict[str, int] = {}
        self._keys: set[str] = set()
        self._guard = TerminationGuard() if owns_run and guard else None
        self._ended = False
        atexit.register(self._at_exit)

    def _write_metrics(self, points: list[Metric], batch: str) -> None:
        self._writer.log_metrics(self.id, points, batch)

    def _attach_environment(self, environment_id: str) -> None:
        """Record the environment captured after the run started."""
        self._writer.set_sources(self.id, None, environment_id)

    def __repr__(self) -> str:
        return f"<Run {short_run_id(self.id)}>"

    # what the run is made of ------------------------------------------------------------------
    def wait_for_sources(self) -> None:
        """Wait until the code state and environment captured at start are stored."""
        if self._sources is None:
            return
        try:
            self._sources.wait()
        except Exception as exc:
            warnings.warn(
                f"run {short_run_id(self.id)}: could not capture its sources: {exc}", stacklevel=2
            )

    @property
    def environment_id(self) -> str | None:
        self.wait_for_sources()
        if self._sources is not None and self._sources.environment_id is not None:
            return self._sources.environment_id
        return self.store.get(self.id).environment_id

    @property
    def code_id(self) -> str | None:
        self.wait_for_sources()
        if self._sources is not None:
            return self._sources.code_id
        return self.store.get(self.id).code_id

    # params, tags, metrics ---------------------------------------------------------------------
    def log_param(self, key: str, value: object) -> None:
        self._writer.log_params(self.id, {key: value})

    def log_params(self, params: Mapping[str, object]) -> None:
        self._writer.log_params(self.id, params)

    def log_seed(self, seed: object, name: str = "seed") -> None:
        """Record a seed the script set (``name`` tells which: ``numpy``, ``torch``, …), so a
        re-run can be expected to give the same numbers and ``parity repro`` knows it was set."""
        self.store.log_seeds(self.id, {name: seed})

    def set_seed(self, seed: int) -> dict[str, str]:
        """Seed Python's ``random`` and, when the script has imported them, NumPy's global
        generator and PyTorch; log each seed set. Returns what was seeded.

        Generators the script creates itself (``numpy.random.default_rng()``) are not reached:
        seed those and log them with ``log_seed``."""
        seeded = seed_libraries(int(seed))
        self.store.log_seeds(self.id, seeded)
        return seeded

    def set_tag(self, key: str, value: object) -> None:
        self._writer.set_tags(self.id, {key: value})

    def set_tags(self, tags: Mapping[str, object]) -> None:
        self._writer.set_tags(self.id, tags)

    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Buffer one point. ``step`` defaults to the key's next step; ``timestamp`` is epoch ms."""
        if key not in self._keys:
            check_key(key, "metric name")
            self._keys.add(key)
        if step is None:
            step = self._steps.get(key, 0)
        self._steps[key] = step + 1
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UsageError(
                f"metric {key!r} must be a number, got {value!r}",
                hint="log text with set_tag or log_text",
            ) from None
        stamp = time.time_ns() // 1_000_000 if timestamp is None else int(timestamp)
        self._buffer.add(Metric(key, None if number != number else number, int(step), stamp))

    def log_metrics(
        self, metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
    ) -> None:
        for key, value in metrics.items():
            self.log_metric(key, value, step, timestamp)

    def flush(self) -> None:
        """Write every buffered metric point now (in team mode: to the journal, on disk)."""
        self._buffer.flush()
        if self._journal is not None:
            self._journal.sync()

    # files and data ----------------------------------------------------------------------------
    def add_artifact_ref(
        self, path: str, digest_or_record_id: str, kind: str, size: int | None = None
    ) -> Artifact:
        """Record that the run produced ``path``: a stored blob, or a record such as a model."""
        artifact = Artifact(path, kind, digest_or_record_id, size)
        self._writer.add_artifact(self.id, artifact)
        return artifact

    def log_artifact(self, path: str | Path, name: str | None = None) -> list[Artifact]:
        """Store a file (or every file of a folder) as artifacts of the run."""
        source = Path(path)
        if not source.exists():
            raise NotFoundError(f"no file {source} to log", hint="check the path")
        base = name or source.name
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        logged = []
        for file in files:
            target = base if file == source else f"{base}/{file.relative_to(source).as_posix()}"
            digest = self.workspace.objects.put_file(file)
            logged.append(self.add_artifact_ref(target, digest, "file", file.stat().st_size))
        return logged

    def log_text(self, text: str, name: str) -> Artifact:
        return self.log_bytes(text.encode("utf-8"), name)

    def log_dict(self, document: Mapping[str, Any], name: str) -> Artifact:
        content = json.dumps(document, indent=2, sort_keys=True, default=str) + "\n"
        return self.log_bytes(content.encode("utf-8"), name)

    def log_bytes(self, content: bytes, name: str, kind: str = "file") -> Artifact:
        digest = self.workspace.objects.put_bytes(content)
        return self.add_artifact_ref(name, digest, kind, len(content))

    def use_data(self, path: str | Path) -> str:
        """Record an input's data version (versioning it if needed); returns the version id.

        A CSV or Parquet input also gets its reference profile, for drift monitoring.
        """
        return self._link_data(Path(path), "input", profile=True)

    def log_output(self, path: str | Path) -> str:
        """Version a file or folder the run wrote and record it as an output."""
        return self._link_data(Path(path), "output", profile=False)

    def _link_data(self, path: Path, direction: str, profile: bool) -> str:
        from parity.api.data import version_path  # lazy: data versioning loads on first use

        version = version_path(self.workspace, path)
        self._writer.add_data(self.id, direction, [DataLink(self._display(path), version)])
        if profile and path.is_file() and path.suffix.lower() in TABLE_SUFFIXES:
            from parity.monitor.reference import store_profile  # lazy: profiles load on use

            try:
                store_profile(
                    self.workspace.records, self.workspace.monitoring, path, version, now_ms()
                )
            except UsageError as exc:
                warnings.warn(f"{path} is not profiled for drift: {exc}", stacklevel=3)
        return version

    def _display(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.workspace.root).as_posix()
        except ValueError:
            return str(path)

    def log_model(
        self,
        model: object,
        name: str = DEFAULT_MODEL_PATH,
        input_example: Any = None,
        flavor: str | None = None,
        *,
        registered_model_name: str | None = None,
        allow_unrestricted_pickle: bool = False,
    ) -> str:
        """Save ``model`` as an artifact of this run at ``name``; returns its model id.

        The model record carries the run's environment (so verification compares against the
        environment that trained it) and the distributions the model imports. With
        ``registered_model_name`` the model is also registered as that model's next version.
        ``allow_unrestricted_pickle`` keeps a model its flavor cannot save restricted as a plain
        pickle (logged; loading it needs the same option).
        """
        # Saving (flavors, requirements, packaging) would cost a run that logs no model, and
        # every `parity runs …` command, ~50-100 ms of start-up.
        from parity.api._model_saving import save_model  # lazy: model saving loads on first use

        model_id, record = save_model(
            self.workspace,
            model,
            input_example=input_example,
            flavor=flavor,
            environment_id=self.environment_id,
            allow_unrestricted_pickle=allow_unrestricted_pickle,
        )
        size = sum(f.size for f in record.files)
        self.add_artifact_ref(name, model_id, kind=MODEL_KIND, size=size)
        if registered_model_name is not None:
            self.workspace.registry.register(
                registered_model_name, model_id, self.workspace.actor(), run_id=self.id
            )
        return model_id

    # the end -----------------------------------------------------------------------------------
    def end(
        self, status: RunStatus | str = RunStatus.FINISHED, exit_code: int | None = None
    ) -> None:
        """Flush and mark the run ended. A run joined via PARITY_RUN_ID is ended by its owner."""
        if self._ended:
            return
        self._ended = True
        atexit.unregister(self._at_exit)
        if self._guard is not None:
            self._guard.release()
        asked = status if isinstance(status, RunStatus) else RunStatus.parse(status)
        final = asked
        refused: Delivery | None = None
        try:
            self.wait_for_sources()
            self._buffer.close()
            if self._journal is not None:
                refused = self._refusals(self._journal.delivered_so_far())
                if refused is not None and final is RunStatus.FINISHED and self._owns_run:
                    # Embedded, the refused write raised in the run and failed it: so here.
                    final = RunStatus.FAILED
                    self._writer.set_tags(self.id, {ERROR_TAG: _refusal_text(refused)[:1000]})
        finally:
            try:
                if self._owns_run:
                    self._writer.end(self.id, final, exit_code)
                if self._journal is not None:
                    refused = self._refusals(self._deliver(self._journal)) or refused
            finally:
                if self._owns_workspace:
                    self.workspace.close()
        if refused is not None and asked is RunStatus.FINISHED:
            raise ConflictError(
                f"run {short_run_id(self.id)}: {_refusal_text(refused)}",
                hint=f"the refused writes are in {self._journal.path if self._journal else '?'}"
                ".rejected; log a changed value under a new name or in a new run",
            )

    @staticmethod
    def _refusals(delivered: Delivery | None) -> Delivery | None:
        return delivered if delivered is not None and delivered.rejected else None

    def _deliver(self, journal: RunJournal) -> Delivery | None:
        """Give the journal's sender its last pass; say what is left for ``parity runs sync``."""
        delivered = journal.close()
        if delivered is not None and delivered.done:
            return delivered
        why = "the server is slow" if delivered is None else delivered.error
        warnings.warn(
            f"run {short_run_id(self.id)}: not everything is sent yet ({why}); it is kept in "
            f"{journal.path} and sent by 'parity runs sync' or the next command that reads runs",
            stacklevel=3,
        )
        return delivered

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is None:
            self.end(RunStatus.FINISHED)
            return
        status = status_for(error)
        if status is RunStatus.FAILED and not isinstance(error, SystemExit):
            last = traceback.format_exception_only(type(error), error)[-1].strip()
            self.set_tag(ERROR_TAG, last[:1000])
        self.end(status)

    def _at_exit(self) -> None:
        # The interpreter is exiting with the run still open (no with-block, or a crash).
        failure = getattr(sys, "last_value", None)
        signalled = self._guard is not None and self._guard.signalled
        try:
            if signalled:
                self.end(RunStatus.KILLED)
            elif isinstance(failure, BaseException):
                self.end(status_for(failure))
            else:
                self.end(RunStatus.FINISHED)
        except ConflictError as refused:  # nothing left to raise it to: say it
            python_warning(f"{refused.message} ({refused.hint})")


def _refusal_text(delivered: Delivery) -> str:
    first = f" (first: {delivered.first_rejection})" if delivered.first_rejection else ""
    return f"the server refused {delivered.rejected} of its writes{first}"


def status_for(error: BaseException) -> RunStatus:
    if isinstance(error, RunTerminated | KeyboardInterrupt):
        return RunStatus.KILLED
    if isinstance(error, SystemExit):
        return RunStatus.FINISHED if error.code in (None, 0) else RunStatus.FAILED
    return RunStatus.FAILED


def python_warning(message: str) -> None:
    """What a run says when nobody listens: a Python warning, pointing past Parity's frames."""
    warnings.warn(message, stacklevel=4)


def begin_run(
    workspace: Workspace,
    *,
    experiment: str | None = None,
    name: str | None = None,
    command: Sequence[str] | None = None,
    parent: str | None = None,
    python: str | None = None,
    owns_workspace: bool = False,
    guard: bool = True,
    infra: Sequence[str] = (),
    on_warning: Callable[[str], None] = python_warning,
) -> Run:
    """Create a run and start capturing its sources in the background.

    ``command`` is the command line of a wrapped child; without it the run is this process's,
    and its interpreter and ``sys.argv`` are recorded, with the files it has imported. The
    infrastructure files ``[lineage] infra`` and ``infra`` match are stored now, screened for
    secrets; ``on_warning`` hears what was redacted or refused.
    """
    store = workspace.runs
    parent_id = store.resolve(parent) if parent else None
    patterns, refuse_secrets = infra_patterns(workspace, infra)  # a bad pattern records nothing
    here = Path.cwd()
    if command is None:
        recorded, read = [Path(sys.executable).name, *sys.argv], files_read_here(here)
    else:
        recorded, read = list(command), files_named(command, here)
    sources = SourceCapture(
        workspace.records,
        here,
        now_ms,
        python=python,
        read=read,
        mark_folder=workspace.parity_dir / "cache",
    )
    run_id = store.create(
        experiment=experiment,
        name=name,
        user=workspace.user,
        host=socket.gethostname(),
        command=recorded,
        parent_id=parent_id,
        code_id=sources.code_id,
        environment_id=sources.environment_id,
        launch=launch_here(here),
    )
    if patterns:
        link_infra(workspace, run_id, patterns, refuse_secrets, on_warning)
    run = Run(
        workspace,
        run_id,
        owns_run=True,
        owns_workspace=owns_workspace,
        sources=sources,
        guard=guard,
    )
    sources.start(run._attach_environment)
    return run
