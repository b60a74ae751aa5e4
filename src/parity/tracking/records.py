"""The immutable parts of a run as records: the code state, stored once per distinct state."""

from __future__ import annotations

import threading
from collections import OrderedDict

from parity.core.run import CODE_KIND, CodeState
from parity.store.records import RecordStore

# Code states this process stored, newest last, so the metadata store's copy of each
# (``parity.tracking.code_index``) is written without reading the record back.
REMEMBERED = 256


def describe(state: CodeState) -> str:
    where = state.branch or "detached"
    commit = (state.commit or "no commit")[:12]
    return f"{where} {commit}" + (" (dirty)" if state.dirty else "")


# Code states already written, per workspace: consecutive runs mostly share one.
_stored: set[tuple[str, str]] = set()
_lock = threading.Lock()
_remembered: OrderedDict[str, CodeState] = OrderedDict()


# The record id of the code states this process stored lately: runs started one after another
# from an unchanged tree have equal states, and a record's id costs its canonical JSON and hash.
_ids: OrderedDict[CodeState, str] = OrderedDict()


def store_code_state(records: RecordStore, state: CodeState, created_ms: int) -> str:
    """Store ``state`` as a record (once per process and stores) and return its id."""
    with _lock:
        record_id = _ids.get(state)
    record = None
    if record_id is None:
        record = state.to_record()
        record_id = record.id
    key = (records.stores_key, record_id)
    if key not in _stored:
        records.put(record or state.to_record(), created_ms, label=describe(state))
        _stored.add(key)
    with _lock:
        _ids[state] = record_id
        _ids.move_to_end(state)
        while len(_ids) > REMEMBERED:
            _ids.popitem(last=False)
    remember(record_id, state)
    return record_id


def remember(code_id: str, state: CodeState) -> None:
    """Keep ``state`` (whose record id is ``code_id``) for the rows this process writes."""
    with _lock:
        _remembered[code_id] = state
        _remembered.move_to_end(code_id)
        while len(_remembered) > REMEMBERED:
            _remembered.popitem(last=False)


def remembered(code_id: str) -> CodeState | None:
    """The code state ``code_id`` when this process stored it lately, else None."""
    with _lock:
        return _remembered.get(code_id)


def load_code_state(records: RecordStore, code_id: str) -> CodeState:
    return CodeState.from_record(records.get(code_id, kind=CODE_KIND))
