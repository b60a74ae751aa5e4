"""A new version stores only what changed: chunks of large files, whole small files."""

from __future__ import annotations

import os
import random
from pathlib import Path

import blake3
import pytest

from parity.api import data as data_api
from parity.workspace import open_workspace
from tests.data._trees import small_chunks


def test_a_small_edit_to_a_large_file_stores_only_a_few_chunks(workspace_dir: Path) -> None:
    big = workspace_dir / "table.csv"
    rows = [f"{i},{random.Random(i).random():.6f},label{i % 7}\n" for i in range(200_000)]
    big.write_text("".join(rows))  # ~6 MiB: above the 4 MiB default threshold
    workspace = open_workspace(workspace_dir, environ={})
    try:
        first = data_api.add(big, workspace=workspace)
        assert first.chunks_new > 40
        rows[100_000] = "edited,row,here\n"
        big.write_text("".join(rows))
        second = data_api.add(big, workspace=workspace)
    finally:
        workspace.close()
    assert second.data_version != first.data_version
    assert 1 <= second.chunks_new <= 3
    assert second.bytes_stored < first.bytes_stored / 10


def test_identical_files_are_stored_once_across_files_and_versions(workspace_dir: Path) -> None:
    small_chunks(workspace_dir)
    data = workspace_dir / "data"
    data.mkdir()
    blob = os.urandom(50_000)
    for index in range(5):
        (data / f"copy{index}.bin").write_bytes(blob)
    workspace = open_workspace(workspace_dir, environ={})
    try:
        first = data_api.add(data, workspace=workspace)
        assert first.chunks_new == 1
        assert first.bytes_stored == pytest.approx(50_000, abs=64)
        (data / "another.bin").write_bytes(blob)
        second = data_api.add(data, workspace=workspace)
    finally:
        workspace.close()
    assert second.files == 6
    assert second.chunks_new == 0
    assert second.bytes_stored == 0


def test_an_unchanged_tree_is_not_read_again(workspace_dir: Path) -> None:
    data = workspace_dir / "data"
    data.mkdir()
    for index in range(20):
        path = data / f"f{index}.txt"
        path.write_text(f"file {index}\n")
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # old enough to be trusted
    workspace = open_workspace(workspace_dir, environ={})
    try:
        first = data_api.add(data, workspace=workspace)
        again = data_api.add(data, workspace=workspace)
    finally:
        workspace.close()
    assert first.files_read == 20
    assert again.files_read == 0
    assert again.data_version == first.data_version
    assert again.changed is False


def test_empty_files_first_and_many_batches_are_packed(workspace_dir: Path) -> None:
    data = workspace_dir / "data"
    data.mkdir()
    (data / "0-empty").write_bytes(b"")
    for index in range(1100):  # more than one read batch
        (data / f"f{index:04}").write_bytes(os.urandom(100))
    workspace = open_workspace(workspace_dir, environ={})
    try:
        added = data_api.add(data, workspace=workspace)
    finally:
        workspace.close()
    assert added.files == 1101
    assert added.chunks_new == 1100


def test_an_incompressible_large_file_is_stored_raw_and_deduplicated(
    workspace_dir: Path,
) -> None:
    from parity.data.versions import load_version

    small_chunks(workspace_dir)  # files of 64 KiB and more are chunked
    block = os.urandom(2_000_000)
    big = workspace_dir / "big.bin"
    # The same random block twice: its chunks after the first resync are stored once.
    big.write_bytes(block + os.urandom(300_000) + block)
    workspace = open_workspace(workspace_dir, environ={})
    try:
        first = data_api.add(big, workspace=workspace)
        entry = load_version(workspace.objects, first.data_version).files[0]
        copy = workspace_dir / "copy.bin"
        copy.write_bytes(big.read_bytes())
        second = data_api.add(copy, workspace=workspace)
    finally:
        workspace.close()
    assert len(entry.chunks) > 5
    assert all(not c.compressed for c in entry.chunks)
    assert len({c.digest for c in entry.chunks}) < len(entry.chunks)
    assert first.bytes_stored < big.stat().st_size - 1_000_000
    assert entry.digest == blake3.blake3(big.read_bytes()).hexdigest()
    assert second.chunks_new == 0
    assert second.bytes_stored == 0


def test_the_same_large_file_gives_the_same_version_in_any_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The version record names where each chunk sits in its pack, so the pack layout must not
    # depend on how the chunking threads happened to interleave. Chunked from both ends here.
    from parity.data import hashing
    from parity.workspace import init_workspace

    monkeypatch.setattr(hashing, "PARALLEL_FROM", 1 << 20)
    monkeypatch.setattr(hashing, "_BATCH", 16)  # many hand-overs to the copier per file
    content = random.Random(5).randbytes(24 << 20)
    versions = set()
    for attempt in range(3):
        root = tmp_path / f"project-{attempt}"
        root.mkdir()
        workspace, _ = init_workspace(root)
        try:
            (root / "big.bin").write_bytes(content)
            versions.add(data_api.add(root / "big.bin", workspace=workspace).data_version)
        finally:
            workspace.close()
    assert len(versions) == 1


def test_a_large_files_second_half_is_stored_by_its_own_writer_and_reads_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunked from both ends, the second half's chunks go to a pack writer of their own while
    # the first half is still being cut: two packs for one 24 MB file, and every byte back.
    from parity.data import hashing
    from parity.data.packs import PackReader
    from parity.data.versions import load_version
    from parity.workspace import init_workspace

    monkeypatch.setattr(hashing, "PARALLEL_FROM", 1 << 20)
    content = random.Random(11).randbytes(24 << 20)
    root = tmp_path / "project"
    root.mkdir()
    workspace, _ = init_workspace(root)
    try:
        (root / "big.bin").write_bytes(content)
        added = data_api.add(root / "big.bin", workspace=workspace)
        entry = load_version(workspace.objects, added.data_version).files[0]
        with PackReader(workspace.objects) as reader:
            stored = b"".join(reader.read(chunk) for chunk in entry.chunks)
    finally:
        workspace.close()
    assert stored == content
    assert len({chunk.pack for chunk in entry.chunks}) == 2
    # Only the few chunks the second half cut before the halves met are stored twice.
    assert len(content) <= added.bytes_stored < len(content) + (1 << 20)


def test_two_copies_of_a_large_file_in_one_add_are_stored_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both halves of the second copy find the first copy's chunks, whichever writer took them.
    from parity.data import hashing
    from parity.workspace import init_workspace

    monkeypatch.setattr(hashing, "PARALLEL_FROM", 1 << 20)
    content = random.Random(12).randbytes(24 << 20)
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    workspace, _ = init_workspace(root)
    try:
        (root / "data" / "a.bin").write_bytes(content)
        (root / "data" / "b.bin").write_bytes(content)
        added = data_api.add(root / "data", workspace=workspace)
    finally:
        workspace.close()
    assert len(content) <= added.bytes_stored < len(content) + (1 << 20)


def test_whether_a_file_is_compressed_does_not_depend_on_earlier_adds(tmp_path: Path) -> None:
    # Compression gives up after 16 incompressible entries in a row (then tries every 16th);
    # that count must start again with each add, or the same tree gets another version id
    # depending on what the process (a notebook, `parity data add a b`) added before.
    from parity.data.versions import load_version
    from parity.workspace import init_workspace

    text = "".join(f"{i},{i * 7 % 13},label{i % 5}\n" for i in range(500)).encode()
    for count, random_files in enumerate((20, 21)):  # one of them leaves a count % 16 != 0
        root = tmp_path / f"project-{count}"
        (root / "noise").mkdir(parents=True)
        (root / "table.csv").write_bytes(text)
        for index in range(random_files):
            (root / "noise" / f"{index}.bin").write_bytes(os.urandom(2000))
        workspace, _ = init_workspace(root)
        try:
            data_api.add(root / "noise", workspace=workspace)
            added = data_api.add(root / "table.csv", workspace=workspace)
            (chunk,) = load_version(workspace.objects, added.data_version).files[0].chunks
        finally:
            workspace.close()
        assert chunk.compressed
