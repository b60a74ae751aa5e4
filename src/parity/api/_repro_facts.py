"""What a repro starts from: the run named, where it will re-run, and the plan made of both.

Not public: ``parity.api.repro`` is the door; ``_reproduce`` runs what is planned here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from parity.core.env_rules import EnvDiff, diff_environments
from parity.core.environment import Environment
from parity.core.errors import NotFoundError, UsageError
from parity.core.model import MODEL_KIND
from parity.core.run import RunView, short_run_id
from parity.env.capture import capture
from parity.env.records import load_environment
from parity.registry.loading import read_model_record
from parity.repro.plan import Expectation, Facts, Plan, Reason, plan_repro
from parity.repro.worktree import has_commit
from parity.tracking.code_state import git_root
from parity.workspace import Workspace

VENV_MARK = ".parity-environment"  # in a venv Parity restored: the environment id it holds


@dataclass(frozen=True)
class Subject:
    """The run to reproduce, with what the plan found about it."""

    run: RunView
    recorded: Environment | None  # the environment it ran in, when its record is here
    imported: frozenset[str] | None  # distributions its models need (None: no model logged)
    repository: Path | None


def resolve_run(workspace: Workspace, reference: str) -> RunView:
    """The run ``reference`` names: a run id prefix, or a model (``NAME@ALIAS``,
    ``NAME/VERSION``) whose version was registered from a tracked run."""
    if "@" in reference or "/" in reference:
        version = workspace.registry.resolve(reference)
        if version.run_id is None:
            raise UsageError(
                f"{version.ref} was not registered from a tracked run: nothing to re-run",
                hint="repro a run id, or register models from runs (parity models register RUN)",
            )
        return workspace.runs.find(version.run_id)
    return workspace.runs.find(reference)


def subject_of(workspace: Workspace, run: RunView) -> Subject:
    recorded = None
    if run.environment_id is not None:
        try:
            recorded = load_environment(workspace.records, run.environment_id)
        except NotFoundError:
            recorded = None
    imported: set[str] | None = None
    for artifact in run.artifacts:
        if artifact.kind == MODEL_KIND:
            try:
                record = read_model_record(workspace.records, artifact.digest)
            except NotFoundError:
                continue
            imported = (imported or set()) | set(record.requirements)
    frozen = None if imported is None else frozenset(imported)
    return Subject(run, recorded, frozen, git_root(workspace.root))


def existing_venv(venv: Path | None) -> Path | None:
    """``venv`` when it already is a virtual environment (used as it is, not rebuilt)."""
    return venv if venv is not None and (venv / "pyvenv.cfg").is_file() else None


def cached_venv(workspace: Workspace, environment_id: str) -> Path:
    """Where a repro restores an environment when no --venv is given: one venv per record."""
    return workspace.parity_dir / "cache" / "repro-venvs" / environment_id[:16]


def is_restored(venv: Path, environment_id: str) -> bool:
    mark = venv / VENV_MARK
    return mark.is_file() and mark.read_text(encoding="utf-8").strip() == environment_id


def target_environment(workspace: Workspace, subject: Subject, venv: Path | None) -> EnvDiff | None:
    """The recorded environment against the one the re-run will have: an existing venv's, or
    (for one still to restore) the recorded packages on this machine's platform."""
    recorded = subject.recorded
    if recorded is None:
        return None
    ready = existing_venv(venv)
    if ready is None:
        cached = cached_venv(workspace, recorded.id)
        ready = cached if is_restored(cached, recorded.id) else None
    if ready is not None:
        actual = capture(str(ready / "bin" / "python"))
    else:
        here = capture()
        actual = dataclasses.replace(
            recorded, platform=here.platform, accelerators=here.accelerators
        )
    return diff_environments(recorded, actual, subject.imported)


def _blockers(workspace: Workspace, subject: Subject) -> list[Reason]:
    run, found = subject.run, []
    never = Expectation.NOT_EXPECTED
    code = run.code
    if subject.repository is None:
        found.append(Reason("code", "the workspace is not in a git repository", never))
    elif code is None or code.get("missing"):
        found.append(Reason("code", "the run recorded no code state here", never))
    elif not code.get("commit") or not has_commit(subject.repository, code["commit"]):
        commit = str(code.get("commit") or "none")[:12]
        found.append(Reason("code", f"commit {commit} is not in this repository", never))
    else:
        blobs = [("the uncommitted diff", code.get("diff_digest"))]
        blobs += [
            (f"untracked file {f['path']}", f.get("digest"))
            for f in code.get("untracked_read") or ()
        ]
        for what, digest in blobs:
            if digest and not workspace.objects.has(digest):
                found.append(Reason("code", f"{what} ({digest[:12]}) is not stored here", never))
    for link in run.inputs:
        if not workspace.objects.has(link.data_version):
            text = f"input {link.path} ({link.data_version[:12]}) is not stored here"
            found.append(Reason("data", text + ": parity data pull", never))
    if subject.recorded is None:
        found.append(Reason("environment", "the run's environment record is not here", never))
    if not run.command:
        found.append(Reason("run", "the run recorded no command", never))
    return found


def make_plan(workspace: Workspace, subject: Subject, venv: Path | None) -> Plan:
    """What to expect of re-running ``subject`` here, and what would stop it (no compute)."""
    notes = []
    code = subject.run.code or {}
    if code.get("dirty") and not code.get("diff_digest"):
        notes.append(Reason("code", "the tree was dirty and no diff was stored", Expectation.CLOSE))
    if subject.run.launch is None:
        text = f"run {short_run_id(subject.run.id)} predates launch records: run from the root"
        notes.append(Reason("run", text, Expectation.CLOSE))
    facts = Facts(
        environment=target_environment(workspace, subject, venv),
        seeds=sorted(subject.run.seeds),
        gpus=subject.recorded.accelerators.gpus if subject.recorded is not None else (),
        blockers=_blockers(workspace, subject),
        notes=notes,
    )
    return plan_repro(facts)
