"""Copy objects between two object stores: plan with set algebra, copy in parallel, report.

Every copy is verified: the source's stored bytes are re-hashed against their digest before the
target sees them, so a corrupt object never spreads to a remote. Objects are content-addressed and
every write is atomic, so a copy that dies halfway loses nothing and the rerun, planned afresh
against what the target holds, copies only what is still missing.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from parity.core.errors import CorruptObject, NotFoundError, ParityError, StorageError
from parity.store.objects import blob, scratch
from parity.store.objects.store import LARGE_FILE, ObjectStore, object_key

# Objects at least this large go through a temp file, never whole in memory.
STREAM_AT = LARGE_FILE
# A remote's latency, not its bandwidth, bounds small copies: keep many requests in flight.
REMOTE_JOBS = 16
LOCAL_JOBS = 4
HELD_BACK = "held back: objects it may reference failed to copy"
GAVE_UP = "not tried: the target kept failing"
# After this many storage failures in a row the target is down, not one object bad: stop
# queueing requests that would each wait out their retries.
GIVE_UP_AFTER = 8


class TransferProgress(Protocol):
    """What a transfer reports as it goes; called from the calling thread only."""

    def planned(self, objects: int, skipped: int) -> None: ...

    def copied(self, digest: str, size: int) -> None: ...


class NoProgress:
    def planned(self, objects: int, skipped: int) -> None:
        pass

    def copied(self, digest: str, size: int) -> None:
        pass


@dataclass(frozen=True)
class TransferResult:
    """What a transfer did: copied (``done``), already there (``skipped``), and what failed why."""

    done: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    failed: Mapping[str, str] = field(default_factory=dict)
    bytes_copied: int = 0
    # The first error raised, kept whole (message and hint) for the one line the CLI prints.
    first_error: ParityError | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return not self.failed

    def merged(self, other: TransferResult) -> TransferResult:
        return TransferResult(
            done=self.done + other.done,
            skipped=self.skipped + other.skipped,
            failed={**self.failed, **other.failed},
            bytes_copied=self.bytes_copied + other.bytes_copied,
            first_error=self.first_error or other.first_error,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "done": len(self.done),
            "skipped": len(self.skipped),
            "failed": dict(sorted(self.failed.items())),
            "bytes_copied": self.bytes_copied,
        }


def is_remote(store: ObjectStore) -> bool:
    return store.backend.local_path(object_key("0" * 64)) is None


def default_jobs(source: ObjectStore, target: ObjectStore) -> int:
    return REMOTE_JOBS if is_remote(source) or is_remote(target) else LOCAL_JOBS


def transfer(
    source: ObjectStore,
    target: ObjectStore,
    waves: Sequence[Iterable[str]],
    jobs: int | None = None,
    progress: TransferProgress | None = None,
    replace: Iterable[str] = (),
) -> TransferResult:
    """Copy the objects of ``waves`` that ``target`` lacks, one wave after the other.

    Pass content first and the records that reference it last: a later wave starts only when
    every earlier one copied in full, so a record on the target implies what it names is there.
    An object named in several waves belongs to the first. Objects in ``replace`` are copied even
    though the target has them (its copies are corrupt); the atomic write swaps them in whole.
    """
    progress = progress or NoProgress()
    # What a killed transfer left in either scratch folder goes first (a rerun cleans up).
    started = time.time_ns()
    for store in (source, target):
        store.sweep_scratch(started)
    planned: list[set[str]] = []
    seen: set[str] = set()
    for wave in waves:
        digests = set(wave) - seen
        seen |= digests
        planned.append(digests)
    missing = target.missing(seen) | (set(replace) & seen)  # one bulk question, not one each
    skipped = tuple(sorted(seen - missing))
    progress.planned(len(missing), len(skipped))
    done: list[str] = []
    failed: dict[str, str] = {}
    first_error: ParityError | None = None
    copied = 0
    pool = ThreadPoolExecutor(max_workers=jobs or default_jobs(source, target))
    try:
        for wave in planned:
            todo = sorted(wave & missing)
            if failed:
                failed.update(dict.fromkeys(todo, HELD_BACK))
                continue
            futures: dict[Future[int], str] = {
                pool.submit(copy_object, source, target, digest): digest for digest in todo
            }
            streak = 0
            for future in as_completed(futures):
                digest = futures[future]
                if future.cancelled():
                    failed[digest] = GAVE_UP
                    continue
                try:
                    size = future.result()
                except ParityError as exc:
                    failed[digest] = str(exc)
                    first_error = first_error or exc
                    per_object = isinstance(exc, CorruptObject) or not isinstance(exc, StorageError)
                    streak = 0 if per_object else streak + 1
                    if streak == GIVE_UP_AFTER:
                        for waiting in futures:
                            waiting.cancel()
                    continue
                streak = 0
                done.append(digest)
                copied += size
                progress.copied(digest, size)
    except BaseException:
        # Ctrl-C or a bug: stop at once; what was copied stays, the rerun resumes.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return TransferResult(tuple(done), skipped, failed, copied, first_error)


def copy_object(source: ObjectStore, target: ObjectStore, digest: str) -> int:
    """Copy one object's stored bytes, verified on the way; return how many bytes moved."""
    key = object_key(digest)
    local = source.backend.local_path(key)
    if local is not None:
        try:
            size = local.stat().st_size
        except FileNotFoundError as exc:
            raise NotFoundError(f"object {digest} is not in {source.url}") from exc
        if size < STREAM_AT:
            data = source.backend.read(key)
            blob.decode(digest, data)
            target.backend.write(key, data)
            return len(data)
    held, staged = _stage(source, target, key, local)
    try:
        with open(staged, "rb") as handle:
            for _ in blob.decode_stream(digest, handle):
                pass
        size = staged.stat().st_size
        target.backend.write_file(key, staged)
    except OSError as exc:
        raise StorageError(f"cannot copy object {digest}: {exc.strerror or exc}") from exc
    finally:
        staged.unlink(missing_ok=True)
        os.close(held)  # only now: its lock kept sweeps away from the staged file
    return size


def _stage(
    source: ObjectStore, target: ObjectStore, key: str, local: Path | None
) -> tuple[int, Path]:
    """A temp file holding the stored bytes of ``key``, where the target can take it over, and
    the fd that marks it as in use (``scratch``): keep it open until the file is gone.

    A local target gets it in its own scratch folder, so handing it over is a rename. A remote
    target uploads it and deletes it, so a local object is hard-linked, not copied. Local to
    local is always a real copy: a remote that shares inodes with the workspace is no backup.
    """
    target_local = target.backend.local_path(key) is not None
    folder = target.backend.scratch_dir() if target_local else source.backend.scratch_dir()
    digest = key.replace("/", "")
    try:
        if local is not None and not target_local:
            held = scratch.hold(local)  # the link shares the object's inode, so its lock
            staged = scratch.unused_name(folder, ".transfer-")
            try:
                os.link(local, staged)
                return held, staged
            except OSError:
                os.close(held)
        held, staged = scratch.create(folder, ".transfer-")
    except FileNotFoundError as exc:
        raise NotFoundError(f"object {digest} is not in {source.url}") from exc
    except OSError as exc:
        raise StorageError(f"cannot stage object {digest}: {exc.strerror}") from exc
    try:
        if local is None:
            source.backend.read_to_file(key, staged)
            held = scratch.relock(staged, held)
        else:
            shutil.copyfile(local, staged)  # into the same inode, so the lock still covers it
    except FileNotFoundError as exc:
        staged.unlink(missing_ok=True)
        os.close(held)
        raise NotFoundError(f"object {digest} is not in {source.url}") from exc
    except OSError as exc:
        staged.unlink(missing_ok=True)
        os.close(held)
        raise StorageError(f"cannot stage object {digest}: {exc.strerror}") from exc
    except BaseException:
        staged.unlink(missing_ok=True)
        os.close(held)
        raise
    return held, staged
