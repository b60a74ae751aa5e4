"""fsck: re-hash every stored object (packs included) and find objects versions need but lack."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from parity.core.errors import CorruptObject, NotFoundError, UsageError
from parity.data.reachable import packs_of_version
from parity.store.objects.store import ObjectStore


@dataclass
class FsckResult:
    checked: int = 0
    corrupt: list[tuple[str, str]] = field(default_factory=list)  # (digest, what is wrong)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (digest, who needs it)

    @property
    def ok(self) -> bool:
        return not self.corrupt and not self.missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "corrupt": [{"digest": d, "detail": w} for d, w in self.corrupt],
            "missing": [{"digest": d, "needed_by": w} for d, w in self.missing],
        }


def fsck(store: ObjectStore, versions: Iterable[tuple[str, str]]) -> FsckResult:
    """Verify every object in ``store``; check that each (version id, who names it) in
    ``versions`` has its manifest and packs."""
    result = FsckResult()
    bad: set[str] = set()
    for digest in store.digests():
        result.checked += 1
        try:
            store.verify(digest)
        except CorruptObject as exc:
            result.corrupt.append((digest, exc.message))
            bad.add(digest)
        except NotFoundError:
            continue  # deleted while we looked
    present: set[str] | None = None
    for version, named_by in dict(versions).items():
        if version in bad:
            continue
        try:
            packs = packs_of_version(store, version)
        except NotFoundError:
            result.missing.append((version, f"data version named by {named_by}"))
            continue
        except (CorruptObject, UsageError) as exc:
            result.corrupt.append((version, str(exc)))
            continue
        if present is None:
            present = set(store.digests())
        for pack in packs:
            if pack not in present:
                result.missing.append((pack, f"pack of data version {version[:12]} ({named_by})"))
    return result
