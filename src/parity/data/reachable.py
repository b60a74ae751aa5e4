"""Which objects a data version needs: its manifest record and the packs its content is in.

Transfer order for a consistent remote: send the **packs first, the manifest last** (and the
pointer, in git, after that). A remote that holds a manifest then always holds everything it
names, so a push killed halfway leaves only unreferenced packs, never a dangling manifest; pull
in the same order for the same reason, then call ``parity.data.index.index_version``.
"""

from __future__ import annotations

from parity.data.versions import load_body
from parity.store.objects.store import ObjectStore


def packs_of_version(store: ObjectStore, data_version_id: str) -> list[str]:
    """The packs of a version, read from its manifest in ``store`` (verified on read)."""
    return [str(p) for p in load_body(store, data_version_id).get("packs", [])]


def objects_of_version(store: ObjectStore, data_version_id: str) -> set[str]:
    """Every object digest needed to check out the version, the manifest record included.

    ``store`` is where the manifest is read from: the remote on pull, the local store on push.
    """
    return {data_version_id, *packs_of_version(store, data_version_id)}
