"""What only the local backend promises: sharding, and no partial object after a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parity.core.ids import digest_bytes
from parity.store.objects import open_object_store
from parity.store.objects.blob import HEADER_SIZE


def test_objects_are_sharded_by_two_hex_characters(tmp_path: Path) -> None:
    store = open_object_store(str(tmp_path / "objects"))
    digest = store.put_bytes(b"sharded")
    assert (tmp_path / "objects" / digest[:2] / digest[2:]).is_file()


def test_flipped_byte_on_disk_is_caught(tmp_path: Path) -> None:
    from parity.core.errors import CorruptObject

    store = open_object_store(str(tmp_path / "objects"))
    digest = store.put_bytes(os.urandom(1000))
    path = tmp_path / "objects" / digest[:2] / digest[2:]
    data = bytearray(path.read_bytes())
    data[HEADER_SIZE + 10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptObject, match=digest) as info:
        store.get_bytes(digest)
    assert info.value.digest == digest


def test_sigkill_while_writing_a_large_blob_leaves_no_partial_object(
    workspace_dir: Path, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        for _ in range(768):
            handle.write(os.urandom(1 << 20))
    digest = None
    scratch = workspace_dir / ".parity" / "objects" / "tmp"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARITY_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "parity", "object", "put", str(big)],
        cwd=workspace_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    # Wait until the blob is being written, then kill the writer without warning.
    while time.monotonic() < deadline:
        partial = [p for p in scratch.iterdir() if p.stat().st_size > (16 << 20)]
        if partial or process.poll() is not None:
            break
        time.sleep(0.01)
    assert process.poll() is None, "the write finished before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    store = open_object_store(str(workspace_dir / ".parity" / "objects"))
    digest = digest_bytes(big.read_bytes())
    assert not store.has(digest)
    assert list(store.digests()) == []

    rerun = subprocess.run(
        [sys.executable, "-m", "parity", "object", "put", str(big)],
        cwd=workspace_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.strip() == digest
    store.verify(digest)
