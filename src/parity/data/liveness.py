"""Which data versions something still needs, and what needs each: what gc must keep.

A data version is live when a pointer names it (in the work tree or in any commit of any git ref),
when a stored record references it (each record kind declares its references, see
``parity.data.record_references``), or when a row of the metadata store does (the columns declared
in ``parity.store.meta.references``). Nothing is found by pattern matching: a record kind with no
declaration, or in a format newer than its declaration reads, stops gc before anything is deleted.
"""

from __future__ import annotations

from pathlib import Path

from parity.core.errors import NotFoundError
from parity.core.references import Target, declaration_of
from parity.data.git import pointers_in_all_refs
from parity.data.manifest import DATA_KIND
from parity.data.pointer import find_pointers, read_pointer
from parity.data.record_references import RECORD_REFERENCES
from parity.store.records import RecordStore


def live_versions(root: Path, records: RecordStore) -> dict[str, str]:
    """Every live data version → one thing that needs it (a pointer file, a record, a column).

    Records and rows count only for versions indexed here; pointers count whatever they name.
    """
    live: dict[str, str] = {}
    for pointer_file in find_pointers(root):
        live.setdefault(read_pointer(pointer_file).data_version, str(pointer_file))
    for pointer in pointers_in_all_refs(root):
        live.setdefault(pointer.data_version, "a pointer in git history")
    known = set(records.meta.record_ids(DATA_KIND))
    # Every kind is checked before any record is read: an unknown one refuses the whole run.
    declarations = {
        kind: declaration_of(kind, RECORD_REFERENCES) for kind in records.meta.count_records()
    }
    for kind, declaration in declarations.items():
        if kind == DATA_KIND:
            # A data version names packs, chunks and file content, never another version; gc
            # reads each one present anyway (for its packs), refusing a newer format there.
            continue
        for record_id in records.meta.record_ids(kind):
            try:
                record = records.objects.get_record(record_id)
            except NotFoundError:
                continue  # not in this store: it keeps nothing in this store alive
            for reference in declaration.of(record):
                if reference.target is Target.DATA_VERSION and reference.id in known:
                    live.setdefault(reference.id, f"{kind} record {record_id[:12]}")
    for version, where in records.meta.referenced_data_versions().items():
        if version in known:
            live.setdefault(version, where)
    return live
