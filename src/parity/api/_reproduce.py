"""Run a repro: check the code out, materialise the data, restore the environment, re-run the
command N times, compare, decide, and record it all as a run that reproduces the original.

Not public: ``parity.api.repro.run`` is the door. Nothing is ever taken from a cache in place of
computing it: the command runs every time; only the environment is reused when a venv restored
earlier still holds exactly the recorded record.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from parity.api._repro_facts import (
    VENV_MARK,
    Subject,
    cached_venv,
    existing_venv,
    is_restored,
)
from parity.api._run import RUN_ID_VARIABLE, WORKSPACE_VARIABLE
from parity.api.data import version_path
from parity.core.canonical import canonical_bytes
from parity.core.env_rules import EnvDiff, diff_environments
from parity.core.environment import Environment
from parity.core.errors import ParityError
from parity.core.run import Artifact, DataLink, RunStatus, RunView, short_run_id
from parity.data.statcache import StatCache
from parity.env.capture import capture
from parity.env.records import store_environment
from parity.env.restore import restore_environment
from parity.repro.command import plan_rerun
from parity.repro.compare import compare_runs
from parity.repro.inputs import InputProblem, materialise_inputs
from parity.repro.noise import Noise, measure_noise
from parity.repro.outcome import Comparison, Outcome
from parity.repro.plan import Plan
from parity.repro.report import REPORT_ARTIFACT, ReproReport
from parity.repro.store import Reproduction
from parity.repro.verdict import Cause, Evidence, Verdict, decide, rank_causes
from parity.repro.worktree import Checkout, CodeProblem, check_out, workspace_folder
from parity.tracking.child import run_child
from parity.tracking.code_state import capture_code_state
from parity.tracking.records import store_code_state
from parity.workspace import Workspace, now_ms, open_workspace


@dataclass(frozen=True)
class Options:
    venv: Path | None = None
    runs: int = 1
    tolerances: Mapping[str, float] = field(default_factory=dict)
    strict: bool = False
    data: Mapping[str, str] = field(default_factory=dict)  # path -> data version to use instead
    wheels_dir: Path | None = None
    exclude: frozenset[str] = frozenset()
    output: IO[bytes] | None = None  # where the re-run's output goes (None: kept as logs only)


class _Failed(Exception):
    """A step that stopped the repro: the area to blame and what happened."""

    def __init__(self, area: str, text: str) -> None:
        super().__init__(text)
        self.area = area
        self.text = text


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


@dataclass
class _Ready:
    """The environment the command re-runs in."""

    venv: Path
    environment: Environment
    environment_id: str
    diff: EnvDiff


def _prepare_environment(ws: Workspace, subject: Subject, options: Options) -> _Ready:
    recorded = subject.recorded
    if recorded is None:
        raise _Failed("environment", "the run's environment record is not here")
    ready = existing_venv(options.venv)
    if ready is not None:
        environment = capture(str(ready / "bin" / "python"))
    else:
        target = options.venv or cached_venv(ws, recorded.id)
        if is_restored(target, recorded.id):
            environment = capture(str(target / "bin" / "python"))
        else:
            try:
                restored = restore_environment(
                    recorded,
                    target,
                    cache_dir=ws.parity_dir / "cache",
                    wheels_dir=options.wheels_dir,
                    exclude=options.exclude,
                )
            except ParityError as exc:
                raise _Failed("environment", f"restoring the environment: {exc.message}") from exc
            environment = restored.environment or capture(str(target / "bin" / "python"))
            (target / VENV_MARK).write_text(recorded.id + "\n", encoding="utf-8")
        ready = target
    environment_id = store_environment(ws.records, environment, now_ms())
    diff = diff_environments(recorded, environment, subject.imported, options.exclude)
    return _Ready(ready, environment, environment_id, diff)


def _child_workspace(ws: Workspace, checkout: Checkout, folder: Path) -> Path:
    """The workspace folder inside the checkout, made to open this workspace's stores."""
    root = checkout.path / folder
    config = root / ".parity" / "config.toml"
    if not config.is_file():
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("[parity]\nformat = 1\n", encoding="utf-8")
        (config.parent / ".gitignore").write_text("*\n", encoding="utf-8")
    return root


def _store_variables(ws: Workspace, child_root: Path) -> dict[str, str]:
    if ws.server_url is not None:  # team mode: the re-run logs to the same server, as this user
        team = {WORKSPACE_VARIABLE: str(child_root), "PARITY_SERVER_URL": ws.server_url}
        token = ws.server.token
        return team if token is None else {**team, "PARITY_TOKEN": token}
    variables = {
        WORKSPACE_VARIABLE: str(child_root),
        "PARITY_METADATA_URL": ws.metadata_url,
        "PARITY_OBJECTS_URL": ws.objects.url,
        "PARITY_USER": ws.user,
    }
    if ws.config.s3_endpoint_url:
        variables["PARITY_S3_ENDPOINT_URL"] = ws.config.s3_endpoint_url
    return variables


def _new_run(ws: Workspace, original: RunView, parent: str | None, attempt: int) -> str:
    label = original.name or short_run_id(original.id)
    return ws.runs.create(
        experiment=original.experiment,
        name=f"repro of {label}" + (f" #{attempt}" if attempt > 1 else ""),
        user=ws.user,
        host=socket.gethostname(),
        command=original.command,
        parent_id=parent,
        launch=original.launch,
    )


def _execute(
    ws: Workspace,
    original: RunView,
    run_id: str,
    checkout: Checkout,
    folder: Path,
    ready: _Ready,
    inputs: Mapping[str, str],
    options: Options,
) -> None:
    """Re-run the command once as run ``run_id``; raises _Failed when it does not succeed."""
    rerun = plan_rerun(
        original.command,
        original.launch,
        repository=checkout.repository,
        checkout=checkout.path,
        workspace_folder=folder,
        venv=ready.venv,
        current=os.environ,
    )
    child_root = _child_workspace(ws, checkout, folder)
    ws.runs.add_data(run_id, "input", [DataLink(p, v) for p, v in sorted(inputs.items())])
    extra = {**_store_variables(ws, child_root), RUN_ID_VARIABLE: run_id}
    status, exit_code = RunStatus.FAILED, None
    try:
        try:
            environ = rerun.environ(os.environ, extra)
            with contextlib.ExitStack() as stack:
                # Output nobody reads is dropped; its tails are still kept as the run's logs.
                sink = options.output or stack.enter_context(open(os.devnull, "wb"))
                result = run_child(rerun.command, environ, sink, sink, cwd=rerun.cwd)
        except OSError as exc:
            raise _Failed("run", f"cannot start {rerun.command[0]}: {exc.strerror}") from exc
        exit_code = result.exit_code
        for tail, name in ((result.stdout_tail, "stdout.txt"), (result.stderr_tail, "stderr.txt")):
            if tail:
                digest = ws.objects.put_bytes(tail)
                ws.runs.add_artifact(run_id, Artifact(name, "log", digest, len(tail)))
        if exit_code != 0:
            last = result.stderr_tail.decode("utf-8", "replace").strip().splitlines()
            why = f": {last[-1][:300]}" if last else ""
            raise _Failed("run", f"the command exited {exit_code}{why}")
        _record_outputs(ws, original, run_id, child_root)
        status = RunStatus.FINISHED
    finally:
        ws.runs.end(run_id, status, exit_code)


def _record_outputs(ws: Workspace, original: RunView, run_id: str, child_root: Path) -> None:
    """Version what the re-run wrote where the original's data outputs were."""
    if not original.outputs:
        return
    environ = {**os.environ, **_store_variables(ws, child_root)}
    with open_workspace(child_root, environ=environ) as child:
        links = []
        for link in original.outputs:
            path = child_root / link.path
            if path.exists():
                links.append(DataLink(link.path, version_path(child, path)))
        ws.runs.add_data(run_id, "output", links)


def _data_evidence(original: RunView, attempts: Sequence[RunView]) -> list[str]:
    """Inputs the re-runs read at another version than the original did."""
    before = {link.path: link.data_version for link in original.inputs}
    found = []
    for view in attempts[:1]:
        for link in view.inputs:
            was = before.get(link.path)
            if was is not None and was != link.data_version:
                found.append(f"{link.path}: {was[:12]} → {link.data_version[:12]}")
    return found


@dataclass
class _State:
    """What a repro has done so far, for the report whatever happens."""

    clock: _Clock = field(default_factory=_Clock)
    run_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ready: _Ready | None = None
    noise: Noise | None = None


def reproduce(
    ws: Workspace,
    subject: Subject,
    plan: Plan,
    reference: str,
    options: Options,
    planned_seconds: float = 0.0,
) -> ReproReport:
    """Re-derive ``subject``'s run and record the verdict as a run that reproduces it;
    ``planned_seconds`` is what making ``plan`` took (counted as Parity's own time)."""
    state = _State()
    state.clock.seconds["plan"] = planned_seconds
    original = subject.run
    comparisons: list[Comparison] = []
    causes: list[Cause] = []
    failure = None
    verdict = Verdict.COULD_NOT_RUN
    started = time.perf_counter()
    run_id = _new_run(ws, original, None, 1)
    state.run_ids.append(run_id)
    try:
        if not plan.runnable:
            first = plan.blockers[0]
            raise _Failed(first.area, first.text)
        comparisons, causes, verdict = _attempts(ws, subject, options, state)
    except _Failed as stop:
        failure = stop.text
        causes = [Cause(stop.area, stop.text, 100)]
    finally:
        with contextlib.suppress(ParityError):
            if ws.runs.get(run_id).status is RunStatus.RUNNING:
                ws.runs.end(run_id, RunStatus.FAILED)
    state.clock.seconds["total"] = time.perf_counter() - started + planned_seconds
    report = ReproReport(
        original_id=original.id,
        reference=reference,
        plan=plan,
        verdict=verdict,
        causes=tuple(causes),
        comparisons=tuple(comparisons),
        run_ids=tuple(state.run_ids),
        noise=state.noise,
        failure=failure,
        notes=tuple(state.notes),
        environment_id=state.ready.environment_id if state.ready else None,
        venv=str(state.ready.venv) if state.ready else None,
        strict=options.strict,
        seconds=dict(state.clock.seconds),
    )
    _record(ws, report)
    return report


def _attempts(
    ws: Workspace, subject: Subject, options: Options, state: _State
) -> tuple[list[Comparison], list[Cause], Verdict]:
    original, clock = subject.run, state.clock
    assert subject.repository is not None
    assert original.code is not None
    with clock.step("checkout"):
        try:
            checkout = check_out(original.code, subject.repository, ws.objects)
        except CodeProblem as exc:
            raise _Failed("code", exc.message) from exc
    try:
        state.notes += checkout.notes
        folder = workspace_folder(subject.repository, ws.root)
        child_root = _child_workspace(ws, checkout, folder)
        with clock.step("checkout"):
            state_of_code = capture_code_state(checkout.path, ws.objects)
            code_id = None
            if state_of_code is not None:
                code_id = store_code_state(ws.records, state_of_code, now_ms())
        with clock.step("inputs"):
            cache = StatCache(child_root / ".parity" / "cache" / "stat.db")
            try:
                inputs = materialise_inputs(
                    ws.objects, cache, original.inputs, child_root, options.data
                )
            except InputProblem as exc:
                raise _Failed("data", str(exc)) from exc
            finally:
                cache.close()
        with clock.step("environment"):
            state.ready = ready = _prepare_environment(ws, subject, options)
        for attempt in range(1, options.runs + 1):
            if attempt > 1:
                state.run_ids.append(_new_run(ws, original, state.run_ids[0], attempt))
            run_id = state.run_ids[-1]
            ws.runs.set_sources(run_id, code_id, ready.environment_id)
            with clock.step("run"):
                _execute(ws, original, run_id, checkout, folder, ready, inputs, options)
    finally:
        checkout.remove()
    with clock.step("compare"):
        attempts = ws.runs.views(state.run_ids)
        tolerances = options.tolerances
        comparisons = compare_runs(ws.records, original, attempts[0], tolerances)
        state.noise = measure_noise(attempts) if len(attempts) > 1 else None
        verdict = decide(comparisons, state.noise)
        differences = [c for c in comparisons if c.outcome is not Outcome.IDENTICAL]
        evidence = Evidence(
            data=_data_evidence(original, attempts),
            code=list(checkout.notes),
            environment=ready.diff,
            noise=state.noise,
            seeded=bool(original.seeds),
        )
        # An identical re-run still lists what differed (another package version that did not
        # change the numbers is worth knowing); a different one ranks the same as its causes.
        causes = rank_causes(evidence, differences)
    return comparisons, causes, verdict


def _record(ws: Workspace, report: ReproReport) -> None:
    """The report as a blob and as an artifact of the reproducing run, linked to the original."""
    run_id = report.run_id
    if run_id is None:
        return
    content = canonical_bytes(report.to_dict())
    digest = ws.objects.put_bytes(content)
    ws.runs.add_artifact(run_id, Artifact(REPORT_ARTIFACT, "report", digest, len(content)))
    reproduction = Reproduction(run_id, report.original_id, str(report.verdict), digest, now_ms())
    ws.reproductions.record(reproduction)
