"""``MetadataStore.exclusive``: one holder of a name at a time, over a SQLite file and the real
PostgreSQL, across store instances (threads) and processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from parity.store.meta import MetadataStore, open_metadata_store
from parity.store.meta.locks import advisory_key

_WAIT_S = 30.0


def _second_holder(store: MetadataStore, name: str, entered: threading.Event) -> threading.Thread:
    def hold() -> None:
        with store.exclusive(name):
            entered.set()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    return thread


def test_a_second_holder_waits_until_the_first_leaves(database_url: str) -> None:
    first, second = open_metadata_store(database_url), open_metadata_store(database_url)
    entered = threading.Event()
    try:
        with first.exclusive("data-add"):
            thread = _second_holder(second, "data-add", entered)
            assert not entered.wait(0.5), "the second holder got in while the first held it"
        assert entered.wait(_WAIT_S), "the second holder never got in after the first left"
        thread.join(_WAIT_S)
    finally:
        first.close()
        second.close()


def test_other_names_do_not_wait(database_url: str) -> None:
    first, second = open_metadata_store(database_url), open_metadata_store(database_url)
    entered = threading.Event()
    try:
        with first.exclusive("data-add"):
            thread = _second_holder(second, "something-else", entered)
            assert entered.wait(_WAIT_S)
            thread.join(_WAIT_S)
    finally:
        first.close()
        second.close()


def test_a_killed_holder_releases_the_lock(database_url: str, tmp_path: Path) -> None:
    held = tmp_path / "held"
    script = (
        "import sys, time, pathlib\n"
        "from parity.store.meta import open_metadata_store\n"
        "store = open_metadata_store(sys.argv[1])\n"
        "with store.exclusive('data-add'):\n"
        "    pathlib.Path(sys.argv[2]).touch()\n"
        "    time.sleep(600)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", script, database_url, str(held)])
    store = open_metadata_store(database_url)
    entered = threading.Event()
    try:
        deadline = time.monotonic() + _WAIT_S
        while not held.exists():
            assert holder.poll() is None, "the holder died before it held the lock"
            assert time.monotonic() < deadline, "the holder never held the lock"
            time.sleep(0.05)
        thread = _second_holder(store, "data-add", entered)
        assert not entered.wait(0.5), "got in while another process held the lock"
        holder.kill()
        holder.wait(_WAIT_S)
        assert entered.wait(_WAIT_S), "the lock outlived the process that held it"
        thread.join(_WAIT_S)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        store.close()


def test_sqlite_lock_file_sits_beside_the_database(tmp_path: Path) -> None:
    store = open_metadata_store(f"sqlite:///{tmp_path / 'parity.db'}")
    try:
        with store.exclusive("data-add"):
            assert (tmp_path / "parity.db.data-add.lock").is_file()
    finally:
        store.close()


def test_names_are_checked_and_keys_are_stable(tmp_path: Path) -> None:
    store = open_metadata_store(f"sqlite:///{tmp_path / 'parity.db'}")
    try:
        with pytest.raises(ValueError, match="lock name"), store.exclusive("../escape"):
            pass
    finally:
        store.close()
    # Every machine sharing the database, and every release, must derive the same key (so
    # not Python's per-process salted hash): pinned.
    assert advisory_key("data-add") == 3530763148847576839
    assert advisory_key("data-add") != advisory_key("data-gc")
    assert -(2**63) <= advisory_key("data-add") < 2**63
