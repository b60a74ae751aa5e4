"""Runs: start one from a training script, then find, search, compare, delete and undelete them.

>>> with parity.runs.start(experiment="churn", params={"model": "rf"}) as run:  # doctest: +SKIP
...     run.use_data("data/train.csv")
...     for epoch in range(10):
...         run.log_metric("loss", train_one_epoch(), step=epoch)
...     run.log_model(model, "model", input_example=features)
>>> parity.runs.list(experiment="churn", filter="metrics.loss < 0.1", sort="-metrics.auc")
... # doctest: +SKIP

``parity.start_run`` is ``start``. A run is named by its id or a unique prefix of it;
``short_ids`` gives the shortest such prefixes, as the CLI prints them.

In team mode a run keeps what it logs in a local journal until the server has it; ``sync``
sends what a run could not (its process ended while the server was down), and the functions
that read runs send it first, so that they read it back.
"""

from __future__ import annotations

import builtins
import importlib
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from parity.api._direct import direct_reads
from parity.api._session import session
from parity.core.errors import NotFoundError
from parity.core.model import MODEL_KIND, ArtifactFile
from parity.core.run import Metric, RunView
from parity.core.run_filter import parse_filter, parse_sort
from parity.tracking.journal import JOURNAL_DIR, journals
from parity.workspace import Workspace, open_workspace

if TYPE_CHECKING:
    from parity.api._run import Run as Run
    from parity.api._run_command import CommandRun as CommandRun
    from parity.api._run_command import track_command as track
    from parity.tracking.compare import RunComparison
    from parity.tracking.delivery import SyncReport

# What starts or wraps a run (sources, infrastructure, the termination guard) is loaded on first
# use, so the commands that only read runs (`parity runs list`) start without it.
_LAZY = {
    "Run": ("parity.api._run", "Run"),
    "CommandRun": ("parity.api._run_command", "CommandRun"),
    "track": ("parity.api._run_command", "track_command"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    return getattr(importlib.import_module(module_name), attribute)


__all__ = [
    "CommandRun",
    "Run",
    "artifact_files",
    "compare",
    "delete",
    "get",
    "history",
    "keys",
    "list",
    "read_artifact",
    "short_ids",
    "start",
    "sync",
    "track",
    "undelete",
]


def start(
    experiment: str | None = None,
    name: str | None = None,
    params: Mapping[str, object] | None = None,
    tags: Mapping[str, object] | None = None,
    parent: str | None = None,
    *,
    seed: int | None = None,
    infra: Sequence[str] = (),
    workspace: Workspace | None = None,
) -> Run:
    """Start a run (or, under ``parity run``, join the run it created: ``PARITY_RUN_ID``).

    >>> with parity.start_run(experiment="churn", params={"model": "rf"}) as run:  # doctest: +SKIP
    ...     run.log_metric("accuracy", 0.93)

    At start the code state (git commit, branch, remote, dirty flag, uncommitted diff, untracked
    files), the environment, the command line, host and user are captured in the background;
    metrics are buffered and written in batches. Used as a context manager the run ends
    finished, failed (on an exception, whose last traceback line becomes the ``error`` tag) or
    killed (KeyboardInterrupt, SIGTERM). Without ``workspace`` the run opens the current
    folder's workspace and closes it when it ends. The infrastructure files that ``[lineage]
    infra`` in config.toml and ``infra`` (glob patterns from the workspace root) match are
    stored with the run, secret-looking values redacted with a warning naming them. The folder
    it started in and the numerics variables it saw are recorded too, for ``parity repro``;
    with ``seed``, Python's ``random`` (and NumPy's and PyTorch's global generators, when
    imported) are seeded and the seeds logged (``run.log_seed`` records seeds the script sets
    itself).
    """
    from parity.api._run import (  # lazy: see _LAZY
        RUN_ID_VARIABLE,
        WORKSPACE_VARIABLE,
        Run,
        begin_run,
    )

    # Not ``session``: the run outlives this call, and closes the workspace it opened at its end.
    owns_workspace = workspace is None
    ws = workspace or open_workspace()
    joined = os.environ.get(RUN_ID_VARIABLE) if parent is None else None
    try:
        if joined:
            if not ws.runs.exists(joined):
                raise NotFoundError(
                    f"{RUN_ID_VARIABLE}={joined} is not a run of the workspace at {ws.root}",
                    hint=f"unset {RUN_ID_VARIABLE}, or set {WORKSPACE_VARIABLE} to its workspace",
                )
            run = Run(ws, joined, owns_run=False, owns_workspace=owns_workspace, sources=None)
        else:
            run = begin_run(
                ws,
                experiment=experiment,
                name=name,
                parent=parent,
                owns_workspace=owns_workspace,
                infra=infra,
            )
        if params:
            run.log_params(params)
        if tags:
            run.set_tags(tags)
        if seed is not None:
            run.set_seed(seed)
    except BaseException:
        if owns_workspace:
            ws.close()
        raise
    return run


def get(reference: str, *, workspace: Workspace | None = None) -> RunView:
    """A run by id or unique id prefix, with its params, metrics, data, artifacts and code.

    >>> parity.runs.get("0190ab12").metrics   # doctest: +SKIP
    """
    with session(workspace) as ws:
        _send_unsent(ws)
        return ws.runs.find(reference)


def artifact_files(
    reference: str, path: str, *, workspace: Workspace | None = None
) -> builtins.list[ArtifactFile]:
    """The files of the artifact a run logged at ``path``: the file itself, or every file of a
    model (paths relative to the model's folder). ``path`` is looked up among the run's
    artifacts, never joined to a storage path.

    >>> [f.path for f in parity.runs.artifact_files("0190ab12", "model")]  # doctest: +SKIP
    ['model.pkl', 'parity-model.json']
    """
    with session(workspace) as ws:
        run = ws.runs.find(reference)
        found = next((a for a in run.artifacts if a.path == path), None)
        if found is None:
            raise NotFoundError(
                f"run {run.id[:12]} logged no artifact {path!r}",
                hint="see the artifacts that 'parity runs show' lists",
            )
        if found.kind != MODEL_KIND:
            # -1: the run recorded no size (``add_artifact_ref`` without one)
            size = -1 if found.size is None else found.size
            return [ArtifactFile(found.path, found.digest, size)]
        from parity.registry.loading import read_model_record  # lazy: only model artifacts

        return builtins.list(read_model_record(ws.records, found.digest).files)


def read_artifact(file: ArtifactFile, *, workspace: Workspace | None = None) -> Iterator[bytes]:
    """The original bytes of an artifact's file (from ``artifact_files``) in blocks, never
    more than its recorded size; CorruptObject after the last block when they do not hash to
    its digest, so a caller must not treat what it got as whole before the end.

    >>> with open("model.pkl", "wb") as out:  # doctest: +SKIP
    ...     for block in parity.runs.read_artifact(files[0]):
    ...         out.write(block)
    """
    with session(workspace) as ws:
        # Bounded by the recorded size; with none recorded (-1), only the digest checks it.
        yield from ws.objects.stream(file.digest, None if file.size < 0 else file.size)


def list(
    experiment: str | None = None,
    *,
    filter: str | None = None,
    sort: str | Sequence[str] | None = None,
    limit: int | None = None,
    deleted: bool = False,
    workspace: Workspace | None = None,
) -> builtins.list[RunView]:
    """Runs, newest first, or matching ``filter`` and sorted by ``sort`` (``-KEY`` descending).

    >>> parity.runs.list(filter="metrics.acc > 0.9 and params.model = 'rf'")  # doctest: +SKIP

    The filter language: ``and``, ``or``, ``not``, ``LIKE`` over ``params.*``, ``metrics.*``,
    ``tags.*`` and run attributes. ``deleted=True`` lists the deleted runs instead.
    """
    keys = [sort] if isinstance(sort, str) else builtins.list(sort or ())
    with session(workspace) as ws:
        _send_unsent(ws)
        with direct_reads(ws) as direct:
            return (ws.runs if direct is None else direct.runs).search(
                experiment=experiment,
                expression=parse_filter(filter or ""),
                sort=[parse_sort(k) for k in keys],
                limit=limit,
                deleted=deleted,
            )


def compare(references: Sequence[str], *, workspace: Workspace | None = None) -> RunComparison:
    """Two or more runs side by side; the first is the baseline for environment differences.

    >>> parity.runs.compare(["0190ab12", "0190ab13"]).metrics   # doctest: +SKIP
    """
    from parity.tracking.compare import compare_runs  # lazy: environments' diff rules, on use

    with session(workspace) as ws:
        _send_unsent(ws)
        return compare_runs(ws.records, [ws.runs.find(r) for r in references])


def delete(reference: str, *, workspace: Workspace | None = None) -> str:
    """Hide a run from lists and searches (it stays restorable); returns its full id."""
    with session(workspace) as ws:
        run_id = ws.runs.resolve(reference)
        ws.runs.delete(run_id)
        return run_id


def undelete(reference: str, *, workspace: Workspace | None = None) -> str:
    """Bring a deleted run back; returns its full id."""
    with session(workspace) as ws:
        run_id = ws.runs.resolve(reference)
        ws.runs.restore(run_id)
        return run_id


# The name before the CLI settled its words (docs/cli.md): "restore" builds environments.
restore = undelete


def history(
    reference: str, metric: str, *, workspace: Workspace | None = None
) -> builtins.list[Metric]:
    """Every logged point of one metric of a run, by step: its whole series, not just the last.

    >>> [(m.step, m.value) for m in parity.runs.history("6650c1f3", "loss")]  # doctest: +SKIP
    [(0, 0.93), (1, 0.51), (2, 0.32)]

    A value of None stands for NaN. A run without that metric is NotFoundError, naming the
    metrics it has.
    """
    with session(workspace) as ws:
        _send_unsent(ws)
        view = ws.runs.find(reference)
        points = ws.runs.metric_history(view.id, metric)
        if not points and metric not in view.metrics:
            logged = ", ".join(sorted(view.metrics)) or "none"
            raise NotFoundError(
                f"run {ws.runs.short_ids([view.id])[view.id]} has no metric {metric!r}",
                hint=f"its metrics: {logged}",
            )
        return points


def short_ids(run_ids: Sequence[str], *, workspace: Workspace | None = None) -> dict[str, str]:
    """Each run id with the shortest prefix (at least 8 characters) no other run starts with.

    >>> parity.runs.short_ids([run.id])   # doctest: +SKIP
    {'6650c1f3a4…': '6650c1f3'}

    Run ids start with their start second, so runs started apart differ within 8 characters and
    a later run never takes an earlier run's prefix; runs started in the same second need a
    character or two more.
    """
    with session(workspace) as ws, direct_reads(ws) as direct:
        return (ws.runs if direct is None else direct.runs).short_ids(run_ids)


def keys(*, workspace: Workspace | None = None) -> dict[str, builtins.list[str]]:
    """The metric, param and tag keys some run has, by kind: ``metrics``, ``params``, ``tags``.

    >>> parity.runs.keys()["metrics"]   # doctest: +SKIP
    ['accuracy', 'loss']
    """
    with session(workspace) as ws, direct_reads(ws) as direct:
        return (ws.runs if direct is None else direct.runs).keys()


def sync(*, workspace: Workspace | None = None) -> SyncReport:
    """Send the server what ended runs logged and could not send (team mode).

    That is the journals in ``.parity/journal`` whose processes ended; those of running
    processes are left to them.

    >>> parity.runs.sync().points   # doctest: +SKIP
    1200

    A journal wholly delivered is deleted; a line the server refuses is set aside beside it
    (``<journal>.rejected``). When the server stops answering, the report says so in ``error``
    and what was not tried in ``left``; running it again resumes where it stopped.
    """
    from parity.tracking.delivery import sync_journals  # lazy: team mode's delivery, on use

    with session(workspace) as ws:
        folder = ws.parity_dir / JOURNAL_DIR
        return sync_journals(folder, ws.runs, ws.server_url or "")


def _send_unsent(ws: Workspace) -> None:
    """In team mode, deliver the journals of ended runs before reading runs (cheap when there
    are none: one look at a folder). A server that does not answer is left to the read."""
    if ws.server_url is not None and journals(ws.parity_dir / JOURNAL_DIR):
        from parity.tracking.delivery import sync_journals  # lazy: team mode only

        sync_journals(ws.parity_dir / JOURNAL_DIR, ws.runs, ws.server_url)
