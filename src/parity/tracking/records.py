"""The immutable parts of a run as records: the code state, stored once per distinct state."""

from __future__ import annotations

from parity.core.run import CODE_KIND, CodeState
from parity.store.records import RecordStore


def describe(state: CodeState) -> str:
    where = state.branch or "detached"
    commit = (state.commit or "no commit")[:12]
    return f"{where} {commit}" + (" (dirty)" if state.dirty else "")


# Code states already written, per workspace: consecutive runs mostly share one.
_stored: set[tuple[str, str]] = set()


def store_code_state(records: RecordStore, state: CodeState, created_ms: int) -> str:
    record = state.to_record()
    key = (f"{records.objects.url} {records.meta.url}", record.id)
    if key not in _stored:
        records.put(record, created_ms, label=describe(state))
        _stored.add(key)
    return key[1]


def load_code_state(records: RecordStore, code_id: str) -> CodeState:
    return CodeState.from_record(records.get(code_id, kind=CODE_KIND))
