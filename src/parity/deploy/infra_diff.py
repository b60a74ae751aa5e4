"""The file diffs between the infrastructure of two runs, as unified diffs of the stored text.

What is compared is what was stored: redacted values read the same on both sides.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from parity.core.infra import InfraChange, InfraSnapshot, diff_snapshots
from parity.store.objects.store import ObjectStore

MAX_DIFF_LINES = 2000


@dataclass(frozen=True)
class FileDiff:
    change: InfraChange
    diff: str  # unified diff text, empty when unchanged

    def to_dict(self) -> dict[str, Any]:
        return {**self.change.to_dict(), "diff": self.diff}


@dataclass(frozen=True)
class InfraDiff:
    """Two runs' infrastructure, path by path (``files``), changed ones with their diff."""

    run_a: str
    run_b: str
    infra_a: str | None  # the snapshot record ids (None: the run stored no infrastructure)
    infra_b: str | None
    files: tuple[FileDiff, ...]

    @property
    def identical(self) -> bool:
        return not any(f.change.changed for f in self.files)

    @property
    def changed(self) -> tuple[FileDiff, ...]:
        return tuple(f for f in self.files if f.change.changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_a": self.run_a,
            "run_b": self.run_b,
            "infra_a": self.infra_a,
            "infra_b": self.infra_b,
            "identical": self.identical,
            "files": [f.to_dict() for f in self.files],
        }


def _lines(objects: ObjectStore, digest: str | None) -> list[str]:
    if digest is None:
        return []
    return objects.get_bytes(digest).decode("utf-8", "replace").splitlines(keepends=True)


def file_diffs(
    objects: ObjectStore, before: InfraSnapshot | None, after: InfraSnapshot | None
) -> tuple[FileDiff, ...]:
    """Every path of either snapshot; each changed one with its unified diff (blobs verified)."""
    diffs = []
    for change in diff_snapshots(before, after):
        text = ""
        if change.changed:
            old = _lines(objects, change.before.digest if change.before else None)
            new = _lines(objects, change.after.digest if change.after else None)
            lines = list(
                difflib.unified_diff(
                    old,
                    new,
                    f"a/{change.path}" if change.before else "/dev/null",
                    f"b/{change.path}" if change.after else "/dev/null",
                )
            )
            if len(lines) > MAX_DIFF_LINES:
                lines = [*lines[:MAX_DIFF_LINES], f"… {len(lines) - MAX_DIFF_LINES} more lines\n"]
            text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        diffs.append(FileDiff(change, text))
    return tuple(diffs)
