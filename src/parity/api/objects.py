"""Objects: the content-addressed store underneath everything (``parity object``).

>>> digest = parity.api.objects.put("weights.bin")                    # doctest: +SKIP
>>> parity.api.objects.get(digest, "restored.bin")                     # doctest: +SKIP
>>> parity.api.objects.fsck().ok                                       # doctest: +SKIP

Plumbing: data versions, runs and models are built on these objects, and are the usual way in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.api._session import session
from parity.store.objects.store import corrupt_digests
from parity.workspace import Workspace

__all__ = ["ObjectCheck", "fsck", "get", "put"]


@dataclass(frozen=True)
class ObjectCheck:
    """What ``fsck`` re-hashed, and which of those objects are corrupt."""

    checked: int
    corrupt: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.corrupt

    def to_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "corrupt": list(self.corrupt)}


def put(path: str | Path, *, workspace: Workspace | None = None) -> str:
    """Store a file's content; returns its digest."""
    with session(workspace) as ws:
        return ws.objects.put_file(Path(path))


def get(digest: str, output: str | Path, *, workspace: Workspace | None = None) -> Path:
    """Write an object's verified content to ``output`` atomically; returns that path.

    A corrupt object raises ``CorruptObject`` and leaves ``output`` untouched.
    """
    destination = Path(output)
    with session(workspace) as ws:
        ws.objects.get_to_file(digest, destination)
    return destination


def fsck(digests: Iterable[str] = (), *, workspace: Workspace | None = None) -> ObjectCheck:
    """Re-hash ``digests`` (default: every stored object) and report the corrupt ones."""
    with session(workspace) as ws:
        store = ws.objects
        wanted = list(digests) or list(store.digests())
        corrupt = corrupt_digests(store, wanted)
    return ObjectCheck(len(wanted), tuple(c.digest for c in corrupt))


# The name before the CLI settled its words (docs/cli.md): "verify" checks environments.
verify = fsck
