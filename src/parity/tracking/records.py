"""The immutable parts of a run as records: the code state, stored once per distinct state."""

from __future__ import annotations

from parity.core.run import CODE_KIND, CodeState
from parity.store.records import RecordStore


def describe(state: CodeState) -> str:
    where = state.branch or "detached"
    commit = (state.commit or "no commit")[:12]
    return f"{where} {commit}" + (" (dirty)" if state.dirty else "")


def store_code_state(records: RecordStore, state: CodeState, created_ms: int) -> str:
    return records.put(state.to_record(), created_ms, label=describe(state))


def load_code_state(records: RecordStore, code_id: str) -> CodeState:
    return CodeState.from_record(records.get(code_id, kind=CODE_KIND))
