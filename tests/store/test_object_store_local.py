"""What only the local backend promises: sharding, and no partial object after a kill."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard

from parity.core.errors import CorruptObject
from parity.core.ids import digest_bytes
from parity.store.objects import open_object_store
from parity.store.objects.blob import CODEC_ZSTD, HEADER_SIZE, decode_stream, header
from parity.store.objects.local import atomic_write_bytes


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


@pytest.mark.slow
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


def _bomb(megabytes: int) -> bytes:
    """A blob whose few KB of zstd expand to ``megabytes`` MiB of zeros."""
    compressor = zstandard.ZstdCompressor(level=19).compressobj()
    payload = b"".join(compressor.compress(bytes(1 << 20)) for _ in range(megabytes))
    return header(CODEC_ZSTD) + payload + compressor.flush()


def test_a_stream_never_yields_past_the_recorded_size() -> None:
    data = _bomb(64)
    yielded = 0
    with pytest.raises(CorruptObject, match="more than the 5000 bytes recorded"):
        for block in decode_stream("0" * 64, io.BytesIO(data), size=5000):
            yielded += len(block)
    assert yielded <= 5000


def test_get_to_file_writes_nothing_past_the_size(tmp_path: Path) -> None:
    store = open_object_store(str(tmp_path / "objects"))
    digest = store.put_bytes(b"small model file")
    path = store.backend.local_path(f"{digest[:2]}/{digest[2:]}")
    assert path is not None
    path.write_bytes(_bomb(64))
    with pytest.raises(CorruptObject, match="more than the 16 bytes recorded"):
        store.get_to_file(digest, tmp_path / "out" / "model.bin", size=16)
    with pytest.raises(CorruptObject, match="more than the 16 bytes recorded"):
        store.verify(digest, size=16)
    assert list((tmp_path / "out").iterdir()) == []


def test_atomic_writes_keep_a_files_mode_and_give_new_ones_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        fresh = tmp_path / "Dockerfile"
        atomic_write_bytes(fresh, b"FROM python\n")
        assert fresh.stat().st_mode & 0o777 == 0o644  # mkstemp's 0600 before
        kept = tmp_path / "run.sh"
        kept.write_bytes(b"#!/bin/sh\n")
        kept.chmod(0o750)
        atomic_write_bytes(kept, b"#!/bin/sh\necho\n")
        assert kept.stat().st_mode & 0o777 == 0o750
        assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile", "run.sh"]
    finally:
        os.umask(old)


def test_a_whole_read_stops_at_its_limit_whether_or_not_the_frame_states_a_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parity.store.objects import store as store_module

    store = open_object_store(str(tmp_path / "objects"))
    digest = store.put_bytes(b'{"kind": "run"}')
    path = store.backend.local_path(f"{digest[:2]}/{digest[2:]}")
    assert path is not None
    # A frame that states 8 MiB is decoded into a buffer of that size at once: the claim is
    # checked first. One that states nothing grows until the limit stops it.
    stated = header(CODEC_ZSTD) + zstandard.ZstdCompressor().compress(bytes(8 << 20))
    for bomb, said in (
        (stated, "claims 8388608 bytes, more than 1048576"),
        (_bomb(8), "within 1048576 bytes"),
    ):
        path.write_bytes(bomb)
        with pytest.raises(CorruptObject, match=said):
            store.get_bytes(digest, limit=1 << 20)
    monkeypatch.setattr(store_module, "RECORD_LIMIT", 1 << 20)
    with pytest.raises(CorruptObject, match="within 1048576 bytes"):
        store.get_record(digest)
