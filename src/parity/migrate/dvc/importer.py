"""Importing a DVC project: plan what is new, then version it, link it to commits, write the work
tree's pointers and record the pipeline's stages as runs.

Plan first (set algebra over what earlier imports recorded), act second, so a dry run is the plan
and a second import finds nothing to do. Every step is idempotent: data versions and commit
pointers are content-addressed records, runs carry their stage key; an interrupted import is
resumed by running it again.
"""

from __future__ import annotations

import posixpath
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.core.errors import UsageError
from parity.data.commit_pointers import CommitPointer, commit_pointers, record_commit_pointer
from parity.data.pointer import Pointer, pointer_path, read_pointer, write_pointer
from parity.data.progress import Progress, no_progress
from parity.migrate.dvc.files import LOCK_NAME, DvcOutput, DvcStage, outputs_of, read_lock_file
from parity.migrate.dvc.history import DvcSnapshot
from parity.migrate.dvc.objects import DvcObjects
from parity.migrate.dvc.stages import (
    StageRun,
    imported_stage_keys,
    output_origin,
    record_stage,
    stage_key,
)
from parity.migrate.dvc.staging import stage_output
from parity.migrate.dvc.versioning import Versioning, version_staged
from parity.tracking.repository import RunRepository


@dataclass(frozen=True)
class DvcImportReport:
    """What an import did (or, for a dry run, would do), counted per kind."""

    versions_added: int = 0  # data versions new to this workspace
    versions_known: int = 0  # outputs whose version an earlier import or add had stored
    commits_linked: int = 0  # commit pointers recorded (a version tied to a commit)
    pointers_written: int = 0  # PATH.parity files written or changed in the work tree
    runs_added: int = 0  # dvc.lock stages recorded as runs
    runs_known: int = 0
    bytes_read: int = 0  # bytes read from DVC's cache or remote
    commits: int = 0  # commits whose DVC files were read
    dry_run: bool = False
    outputs: tuple[str, ...] = field(default=())  # paths of the outputs imported

    def to_dict(self) -> dict[str, Any]:
        return {
            "versions_added": self.versions_added,
            "versions_known": self.versions_known,
            "commits_linked": self.commits_linked,
            "pointers_written": self.pointers_written,
            "runs_added": self.runs_added,
            "runs_known": self.runs_known,
            "bytes_read": self.bytes_read,
            "commits": self.commits,
            "dry_run": self.dry_run,
            "outputs": list(self.outputs),
        }


@dataclass(frozen=True)
class ImportPlan:
    """What an import has to do, found by comparing DVC's files with earlier imports."""

    outputs: Mapping[tuple[str, str], DvcOutput]  # (path, origin) → output, every one named
    missing: Mapping[tuple[str, str], DvcOutput]  # those no earlier import versioned
    known: Mapping[tuple[str, str], Pointer]  # those an earlier import versioned
    links: list[tuple[str, str, str]]  # (path, commit, origin) not yet recorded
    stages: list[StageRun]  # stage states no run records yet
    stages_known: int
    current: list[DvcOutput]  # the work tree's outputs: their pointers are written
    commits: int  # commits whose DVC files were read


def selector(paths: Sequence[str]) -> Callable[[str], bool]:
    """Whether a repository path falls under one of ``paths`` (all, when none is given)."""
    wanted = [p.rstrip("/") for p in paths]

    def selected(path: str) -> bool:
        return not wanted or any(
            path == p or path.startswith(p + "/") or p in ("", ".") for p in wanted
        )

    return selected


def _outputs(snapshot: DvcSnapshot, selected: Callable[[str], bool]) -> list[DvcOutput]:
    found = []
    for path, text in sorted(snapshot.files.items()):
        try:
            outputs = outputs_of(path, text)
        except UsageError as exc:
            if snapshot.commit is None:
                raise
            raise UsageError(f"commit {snapshot.commit[:10]}: {exc.message}", exc.hint) from exc
        found += [o for o in outputs if selected(path) or selected(o.path)]
    return found


def _stages(snapshot: DvcSnapshot, selected: Callable[[str], bool]) -> list[DvcStage]:
    stages = []
    for path, text in sorted(snapshot.files.items()):
        if posixpath.basename(path) != LOCK_NAME:
            continue
        for stage in read_lock_file(text, path):
            if selected(path) or any(selected(o.path) for o in stage.outs):
                stages.append(stage)
    return stages


class DvcImporter:
    def __init__(
        self,
        root: Path,
        objects: DvcObjects,
        versioning: Versioning,
        runs: RunRepository,
        user: str,
        progress: Progress = no_progress,
    ) -> None:
        self.root = root
        self.objects = objects
        self.versioning = versioning
        self.runs = runs
        self.user = user
        self.progress = progress

    def plan(
        self, work_tree: DvcSnapshot, history: Iterable[DvcSnapshot], paths: Sequence[str] = ()
    ) -> ImportPlan:
        """What is there to import, against what earlier imports recorded (set algebra only:
        nothing is read from DVC's cache and nothing is written)."""
        selected = selector(paths)
        snapshots = [*history, work_tree]
        found = [(o, s.commit) for s in snapshots for o in _outputs(s, selected)]
        # What earlier imports recorded: (path, origin) → pointer, and the commit pointers.
        known: dict[tuple[str, str], Pointer] = {}
        linked: set[tuple[str, str, str]] = set()
        for path in sorted({output.path for output, _ in found}):
            for earlier in commit_pointers(self.versioning.records, path):
                known[(path, earlier.origin)] = earlier.pointer
                linked.add((path, earlier.commit, earlier.origin))
        unique: dict[tuple[str, str], DvcOutput] = {}
        for output, _ in found:
            unique.setdefault(_key(output), output)
        # Stages: one run per distinct lock entry, tagged with the first commit recording it.
        stage_runs: dict[str, StageRun] = {}
        for snapshot in snapshots:
            for stage in _stages(snapshot, selected):
                stage_runs.setdefault(stage_key(stage), StageRun(stage, snapshot.commit))
        done_stages = imported_stage_keys(self.runs) if stage_runs else set()
        links = {(o.path, commit, output_origin(o)) for o, commit in found if commit is not None}
        return ImportPlan(
            outputs=unique,
            missing={key: out for key, out in unique.items() if key not in known},
            known=known,
            links=sorted(links - linked),
            stages=[run for key, run in stage_runs.items() if key not in done_stages],
            stages_known=len(stage_runs.keys() & done_stages),
            current=_outputs(work_tree, selected),
            commits=sum(1 for s in snapshots if s.commit is not None),
        )

    def run(
        self,
        work_tree: DvcSnapshot,
        history: Iterable[DvcSnapshot],
        paths: Sequence[str] = (),
        dry_run: bool = False,
        scratch_parent: Path | None = None,
    ) -> DvcImportReport:
        """Plan, then (unless ``dry_run``) version what is missing, record the commit links,
        write the work tree's pointers and record the new stages as runs."""
        plan = self.plan(work_tree, history, paths)
        imported = tuple(sorted({o.path for o in plan.current}))
        if dry_run:
            return DvcImportReport(
                versions_added=len(plan.missing),
                versions_known=len(plan.outputs) - len(plan.missing),
                commits_linked=len(plan.links),
                pointers_written=sum(self._pointer_changes(o, plan.known) for o in plan.current),
                runs_added=len(plan.stages),
                runs_known=plan.stages_known,
                commits=plan.commits,
                dry_run=True,
                outputs=imported,
            )
        known = dict(plan.known)
        added, read = self._version(plan.missing, known, scratch_parent)
        linked = 0
        for path, commit, origin in plan.links:
            found = CommitPointer(path, commit, known[(path, origin)], origin)
            linked += record_commit_pointer(self.versioning.records, found, self.versioning.clock())
        written = 0
        for output in plan.current:
            if self._pointer_changes(output, known):
                write_pointer(pointer_path(self.root / output.path), known[_key(output)])
                written += 1
        versions = {key: pointer.data_version for key, pointer in known.items()}
        for stage_run in plan.stages:
            record_stage(self.runs, stage_run, versions, self.user)
        return DvcImportReport(
            versions_added=added,
            versions_known=len(plan.outputs) - added,
            commits_linked=linked,
            pointers_written=written,
            runs_added=len(plan.stages),
            runs_known=plan.stages_known,
            bytes_read=read,
            commits=plan.commits,
            outputs=imported,
        )

    def _pointer_changes(self, output: DvcOutput, known: Mapping[tuple[str, str], Pointer]) -> bool:
        pointer_file = pointer_path(self.root / output.path)
        if not pointer_file.is_file():
            return True
        wanted = known.get(_key(output))
        return wanted is None or read_pointer(pointer_file) != wanted

    def _version(
        self,
        missing: Mapping[tuple[str, str], DvcOutput],
        known: dict[tuple[str, str], Pointer],
        scratch_parent: Path | None,
    ) -> tuple[int, int]:
        """Stage and version every output in ``missing`` (adding them to ``known``); returns
        how many versions were new and how many bytes were read."""
        total = sum(out.size or 0 for out in missing.values())
        done = 0
        added = 0

        def advance(size: int) -> None:
            nonlocal done
            done += size
            self.progress(done, max(total, done))

        scratch = Path(tempfile.mkdtemp(prefix="dvc-import-", dir=scratch_parent))
        try:
            for number, (key, output) in enumerate(sorted(missing.items())):
                folder = scratch / str(number)
                folder.mkdir()
                staged = stage_output(self.objects, output, folder, advance)
                pointer, new = version_staged(
                    self.versioning, staged, output.path, scratch / f"{number}.stat.db"
                )
                shutil.rmtree(folder, ignore_errors=True)
                known[key] = pointer
                added += new
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return added, done


def _key(output: DvcOutput) -> tuple[str, str]:
    return (output.path, output_origin(output))
