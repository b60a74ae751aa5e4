"""The journal on disk: lines appended whole, read back from an offset, locked while written."""

from __future__ import annotations

from pathlib import Path

import pytest

from parity.core.errors import StorageError
from parity.tracking.journal import (
    JournalFile,
    claimed,
    journals,
    read_entries,
    read_header,
    record_rejected,
    record_sent,
    remove,
    sent_offset,
    unsent,
)

RUN = "0123456789abcdef0123456789abcdef"


def test_lines_read_back_from_any_offset_and_a_cut_line_waits(tmp_path: Path) -> None:
    journal = JournalFile(tmp_path, RUN, "http://server", 5)
    journal.append({"op": "tags", "tags": {"a": "1"}})
    journal.append({"op": "tags", "tags": {"a": "2"}})
    journal.sync()
    header, first, second = read_entries(journal.path, 0)
    assert header.document == {
        "journal": 1,
        "run_id": RUN,
        "server": "http://server",
        "created_ms": 5,
    }
    assert read_header(journal.path)["run_id"] == RUN
    assert [e.document["tags"] for e in read_entries(journal.path, first.end)] == [{"a": "2"}]
    assert read_entries(journal.path, second.end) == []
    with journal.path.open("ab") as handle:  # a write cut short by a crash, and a bad line
        handle.write(b'not json\n{"op": "tags", "ta')
    [broken] = read_entries(journal.path, second.end)
    assert broken.document == {"op": "unreadable", "line": "not json\n"}
    assert read_entries(journal.path, broken.end) == []
    journal.close()


def test_a_line_longer_than_one_read_is_read_whole(tmp_path: Path) -> None:
    journal = JournalFile(tmp_path, RUN, "s", 0)
    journal.append({"op": "params", "params": {"long": "x" * 5000}})
    journal.close()
    header = read_entries(journal.path, 0)[0]
    [line] = read_entries(journal.path, header.end, budget=100)
    assert len(line.document["params"]["long"]) == 5000


def test_a_journal_is_locked_while_written_and_listed_until_sent(tmp_path: Path) -> None:
    journal = JournalFile(tmp_path, RUN, "http://server", 0)
    journal.append({"op": "tags", "tags": {"a": "1"}})
    journal.append({"op": "tags", "tags": {"a": "2"}})
    assert journals(tmp_path) == [journal.path]  # never the half-made file before its rename
    with claimed(journal.path) as mine:
        assert not mine
    [waiting] = unsent(tmp_path)
    assert (waiting.run_id, waiting.entries, waiting.live) == (RUN, 2, True)
    journal.close()
    with claimed(journal.path) as mine:
        assert mine
    assert unsent(tmp_path)[0].live is False
    entries = read_entries(journal.path, 0)
    record_sent(journal.path, entries[1].end)
    assert sent_offset(journal.path) == entries[1].end
    assert unsent(tmp_path)[0].entries == 1
    record_sent(journal.path, entries[-1].end)
    assert unsent(tmp_path) == []
    record_rejected(journal.path, {"op": "x"}, "refused")
    remove(journal.path)
    assert journals(tmp_path) == []
    assert sent_offset(journal.path) == 0
    assert (tmp_path / f"{journal.path.name}.rejected").read_text().count("refused") == 1
    with claimed(journal.path) as mine:
        assert not mine  # gone: nothing to claim


def test_a_file_that_is_no_journal_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text('{"journal": 99}\n')
    with pytest.raises(StorageError, match="is not a run journal this Parity reads"):
        read_header(tmp_path / "x.jsonl")
    assert unsent(tmp_path) == []
    assert unsent(tmp_path / "missing") == []
