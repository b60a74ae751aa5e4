"""Version data files and folders next to git, and share, check out, inspect, clean and check
their versions: what ``parity data`` does.

>>> from parity.api import data
>>> data.add("data/train").data_version                  # doctest: +SKIP
'3f2a…'
>>> [s.path for s in data.status() if not s.clean]       # doctest: +SKIP
>>> data.push(remote="origin").result.ok                 # doctest: +SKIP
True

Each call opens the current folder's workspace unless given ``workspace=``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from parity.api._adding import AddResult, add_path
from parity.api._session import session
from parity.api._transfer import SyncReport, pull_versions, push_versions, versions_of
from parity.api._validation import ValidationOutcome, validate_table, validations_of
from parity.api._worktree import (
    current_version,
    data_target,
    earlier_version,
    pointer_files,
    stat_cache,
)
from parity.core.errors import ConflictError, NotFoundError, UsageError
from parity.core.ids import is_digest
from parity.data.checkout import CheckoutResult, confine
from parity.data.checkout import checkout as checkout_version
from parity.data.commit_pointers import commit_pointers, pointer_at_commit
from parity.data.fsck import FsckResult
from parity.data.fsck import fsck as check_objects
from parity.data.git import (
    PointerCommit,
    describe_commits,
    newest_first,
    pointer_at,
    resolve_commit,
    toplevel,
)
from parity.data.git import history as pointer_history
from parity.data.manifest import DATA_KIND
from parity.data.pointer import (
    Pointer,
    find_pointers,
    pointer_path,
    read_pointer,
    target_of,
    write_pointer,
)
from parity.data.progress import Progress, no_progress
from parity.data.statcache import StatCache
from parity.data.status import DataStatus, confirm_clean, expected_files
from parity.data.status import data_status as compare_tree
from parity.data.transfer import TransferProgress
from parity.data.validate import Validation
from parity.data.versions import load_body, load_version
from parity.workspace import Workspace

if TYPE_CHECKING:
    from parity.data.gc import GcPlan

__all__ = [
    "AddResult",
    "SyncReport",
    "ValidationOutcome",
    "add",
    "checkout",
    "fsck",
    "gc",
    "history",
    "paths",
    "pull",
    "push",
    "readers",
    "status",
    "validate",
    "validations",
    "writers",
]

PathLike = str | os.PathLike[str]


def add(
    path: PathLike,
    *,
    progress: Progress = no_progress,
    follow_symlinks: bool = False,
    workspace: Workspace | None = None,
) -> AddResult:
    """Version ``path`` (a file or folder): store what is new, write ``PATH.parity`` for git.

    A symlink to a file outside the workspace is refused (UsageError) unless
    ``follow_symlinks``: following it would store whatever it points at.

    >>> data.add("data/train")                          # doctest: +SKIP
    AddResult(data_version='3f2a…', files=20000, …)
    """
    with session(workspace) as ws:
        return add_path(ws, Path(path), progress, follow_symlinks)


def version_path(workspace: Workspace, path: Path) -> str:
    """The data version id of ``path``'s current content, versioning it first if it is new or
    changed (unchanged files are not read again: the stat cache knows them).

    Not public: what ``run.use_data(path)`` records.
    """
    return add_path(workspace, path).data_version


def status(
    paths: Iterable[PathLike] = (), *, workspace: Workspace | None = None
) -> list[DataStatus]:
    """Added / modified / deleted files of each path against its pointer (default: all).

    A path that is neither versioned nor present raises ``NotFoundError``; one that is present
    but has no pointer yet is reported as added.

    >>> [s.path for s in data.status() if not s.clean]  # doctest: +SKIP
    ['data/train']
    """
    results = []
    with session(workspace) as ws:
        cache = stat_cache(ws)
        try:
            for target, pointer_file, key in pointer_files(ws, (Path(p) for p in paths)):
                if not pointer_file.is_file():
                    if not target.exists() and not target.is_symlink():
                        raise NotFoundError(
                            f"{key} is neither versioned data nor a file or folder here",
                            hint="check the path; 'parity data status' lists every pointer",
                        )
                    results.append(DataStatus(key, None, added=(key,)))
                    continue
                pointer = read_pointer(pointer_file)
                remembered = (
                    cache.clean_tree(key, pointer.data_version) if target.is_dir() else None
                )
                if remembered is not None and confirm_clean(target, remembered):
                    results.append(DataStatus(key, pointer.data_version))
                    continue
                expected = expected_files(load_body(ws.objects, pointer.data_version))
                results.append(compare_tree(target, key, pointer.data_version, expected, cache))
        finally:
            cache.close()
    return results


def checkout(
    paths: Iterable[PathLike] = (),
    *,
    rev: str | None = None,
    force: bool = False,
    progress: Progress = no_progress,
    workspace: Workspace | None = None,
) -> list[tuple[str, CheckoutResult]]:
    """Make each path hold the version its pointer names (default: every pointer).

    With ``rev`` (a git revision), the version committed there, and the pointer file is updated
    to it. Files you changed are kept (ConflictError) unless ``force``.

    >>> data.checkout(["data/train"], rev="HEAD~1")     # doctest: +SKIP
    """
    done = []
    with session(workspace) as ws:
        cache = stat_cache(ws)
        try:
            for target, pointer_file, key in pointer_files(ws, (Path(p) for p in paths)):
                result = _checkout_one(ws, cache, target, pointer_file, key, rev, force, progress)
                done.append((key, result))
        finally:
            cache.close()
    return done


def _checkout_one(
    ws: Workspace,
    cache: StatCache,
    target: Path,
    pointer_file: Path,
    key: str,
    rev: str | None,
    force: bool,
    progress: Progress,
) -> CheckoutResult:
    pointer, current = current_version(ws, pointer_file)
    if rev is not None:
        confine(pointer_file, ws.root.resolve())  # the pointer is rewritten below
        pointer = _pointer_at(ws, pointer_file, rev)
    if pointer is None:
        raise UsageError(
            f"{key} has no pointer {pointer_file.name}",
            hint=f"version it with 'parity data add {key}'",
        )
    want = load_version(ws.objects, pointer.data_version)
    try:
        result = checkout_version(
            ws.objects, cache, target, key, want, current, force, progress, within=ws.root
        )
    except ConflictError:
        # The files may hold the version the pointer named before a git pull or checkout moved
        # it: then nothing of the user's is at stake (checkout refuses before writing anything).
        earlier = earlier_version(ws, cache, target, key, pointer_file)
        if earlier is None:
            raise
        result = checkout_version(
            ws.objects, cache, target, key, want, earlier, force, progress, within=ws.root
        )
    if rev is not None:
        write_pointer(pointer_file, pointer)
    return result


def _pointer_at(ws: Workspace, pointer_file: Path, rev: str) -> Pointer:
    """The pointer committed at ``rev``; for a commit without the pointer file (history
    imported from DVC), the commit pointer recorded for it (``parity.data.commit_pointers``)."""
    try:
        return pointer_at(pointer_file, rev)
    except NotFoundError as missing:
        root = toplevel(pointer_file.parent)
        try:
            commit = resolve_commit(root, rev)
        except NotFoundError:
            raise missing from None
        path = pointer_file.parent.relative_to(root).joinpath(pointer_file.name).as_posix()
        recorded = pointer_at_commit(ws.records, path[: -len(".parity")], commit)
        if recorded is None:
            raise
        return recorded


def history(path: PathLike, *, workspace: Workspace | None = None) -> list[PointerCommit]:
    """The versions of ``path`` in git history, newest first, imported commits included.

    Those are the commits that changed its pointer file, and the commits recorded for it
    without one (history imported from DVC: ``parity.data.commit_pointers``).

    >>> [c.pointer.data_version[:12] for c in data.history("data/train") if c.pointer]
    ... # doctest: +SKIP
    """
    with session(workspace) as ws:
        target, _key = data_target(ws, Path(path))
        pointer_file = pointer_path(target)
        commits = pointer_history(pointer_file)
        root = toplevel(target.parent)
        recorded = {
            c.commit: c.pointer
            for c in commit_pointers(ws.records, target.relative_to(root).as_posix())
        }
        seen = {c.commit for c in commits}
        extra = [c for c in recorded if c not in seen]
        if not extra:
            return commits
        for commit, (when, author, subject) in describe_commits(root, extra).items():
            commits.append(PointerCommit(commit, when, author, subject, recorded[commit]))
        place = newest_first(root)
        return sorted(commits, key=lambda c: (-c.time, place.get(c.commit, len(place))))


def paths(*, workspace: Workspace | None = None) -> dict[str, Pointer]:
    """Every versioned path of the work tree (relative to the workspace, POSIX), sorted, with
    the pointer beside it: the data version it names, its size and file count.

    >>> {p: v.data_version[:12] for p, v in data.paths().items()}   # doctest: +SKIP
    {'data/train': '3f2a…'}
    """
    with session(workspace) as ws:
        return {
            target_of(found).relative_to(ws.root).as_posix(): read_pointer(found)
            for found in find_pointers(ws.root)
        }


def readers(data_version: str, *, workspace: Workspace | None = None) -> list[str]:
    """The ids of the runs that read ``data_version`` (or a unique prefix of its id) as an
    input, oldest first; deleted runs are left out.

    >>> data.readers("3f2a")                             # doctest: +SKIP
    ['0192f3…', '0192f4…']
    """
    with session(workspace) as ws:
        return ws.runs.runs_that_read(_full_version(ws, data_version))


def writers(data_version: str, *, workspace: Workspace | None = None) -> list[str]:
    """The ids of the runs that wrote ``data_version`` (or a unique prefix of its id) as an
    output (``parity run --output``), oldest first; deleted runs are left out.

    >>> data.writers("3f2a")                             # doctest: +SKIP
    ['0192f1…']
    """
    with session(workspace) as ws:
        return ws.runs.runs_that_wrote(_full_version(ws, data_version))


def _full_version(ws: Workspace, data_version: str) -> str:
    # A full id needs no record here: runs name versions stored elsewhere too.
    if not is_digest(data_version.lower()):
        return ws.records.resolve(data_version, kind=DATA_KIND)
    return data_version.lower()


# The name before the CLI settled its words (docs/cli.md): "history", as for models and metrics.
log = history


def gc(*, delete: bool = False, workspace: Workspace | None = None) -> GcPlan:
    """What no pointer (in any git ref), run or model reaches any more; removed with ``delete``.

    Alive is what a pointer in the work tree or any git ref names, what a stored record
    declares it references, and what a declared metadata column names (docs/data.md).

    >>> data.gc().delete_versions                        # doctest: +SKIP
    """

    from parity.data.gc import plan_gc, run_gc  # lazy: gc's modules load only for gc
    from parity.data.liveness import live_versions  # lazy: as above

    with session(workspace) as ws:
        index = ws.chunk_index
        live = live_versions(ws.root, ws.records)
        plan = plan_gc(ws.objects, index, live, ws.records.meta.record_ids(DATA_KIND))
        return run_gc(ws.objects, index, plan) if delete else plan


def fsck(*, workspace: Workspace | None = None) -> FsckResult:
    """Re-hash every stored object; find what the work tree's pointers need but the store lacks.

    >>> data.fsck().ok                                   # doctest: +SKIP
    True
    """
    with session(workspace) as ws:
        named = [
            (read_pointer(p).data_version, str(p.relative_to(ws.root)))
            for p in find_pointers(ws.root)
        ]
        return check_objects(ws.objects, named)


def validate(
    path: PathLike, schema: PathLike, *, workspace: Workspace | None = None
) -> ValidationOutcome:
    """Check the table at ``path`` (CSV or Parquet) against a pandera schema (YAML, or a Python
    file defining ``schema``) and record the verdict on its data version.

    >>> data.validate("data/train.csv", "schema.yaml").validation.ok  # doctest: +SKIP
    """
    with session(workspace) as ws:
        return validate_table(ws, Path(path), Path(schema))


def validations(
    data_version: str, *, workspace: Workspace | None = None
) -> list[tuple[str, Validation]]:
    """Every validation recorded on ``data_version``, oldest first, with its record id.

    >>> [v.ok for _, v in data.validations("3f2a…")]     # doctest: +SKIP
    [False, True]
    """
    with session(workspace) as ws:
        return validations_of(ws, data_version)


def push(
    paths: Iterable[PathLike] = (),
    *,
    versions: Sequence[str] = (),
    remote: str | None = None,
    jobs: int | None = None,
    progress: TransferProgress | None = None,
    workspace: Workspace | None = None,
) -> SyncReport:
    """Send the data versions of ``paths``' pointers and ``versions`` (ids) to a remote (default:
    every pointer; the default remote); only what it lacks is copied.

    >>> data.push(["data/train"], remote="origin").result.ok  # doctest: +SKIP
    True
    """
    with session(workspace) as ws:
        wanted = versions_of(ws, [Path(p) for p in paths], versions)
        return push_versions(ws, wanted, remote, jobs, progress)


def pull(
    paths: Iterable[PathLike] = (),
    *,
    versions: Sequence[str] = (),
    remote: str | None = None,
    jobs: int | None = None,
    progress: TransferProgress | None = None,
    verify: bool = False,
    checkout: bool = True,
    workspace: Workspace | None = None,
) -> SyncReport:
    """Fetch the data versions of ``paths``' pointers and ``versions`` (ids) from a remote
    (default: every pointer; the default remote), then check the paths out, as DVC's pull does.

    Checkout keeps its rule: a path holding files you changed is left as it is and listed in
    ``not_checked_out`` with the reason (``checkout(paths, force=True)`` overwrites them).
    ``checkout=False`` only fetches; so does a pull of ``versions`` alone, which name no path.
    With ``verify``, the local copies are re-hashed too and corrupt ones fetched again.

    >>> data.pull(["data/train"]).checked_out             # doctest: +SKIP
    (('data/train', CheckoutResult(written=['a.csv'], …)),)
    """
    with session(workspace) as ws:
        given = [Path(p) for p in paths]
        wanted = versions_of(ws, given, versions)
        report = pull_versions(ws, wanted, remote, jobs, progress, verify)
        if not checkout or (versions and not given):
            return report
        targets = pointer_files(ws, given)
        if not report.result.ok:
            skipped = tuple((key, "the pull did not complete") for _, _, key in targets)
            return dataclasses.replace(report, not_checked_out=skipped)
        done: list[tuple[str, CheckoutResult]] = []
        kept: list[tuple[str, str]] = []
        cache = stat_cache(ws)
        try:
            for target, pointer_file, key in targets:
                try:
                    result = _checkout_one(
                        ws, cache, target, pointer_file, key, None, False, no_progress
                    )
                except ConflictError as exc:
                    kept.append((key, exc.message))
                else:
                    done.append((key, result))
        finally:
            cache.close()
        return dataclasses.replace(report, checked_out=tuple(done), not_checked_out=tuple(kept))
