"""Deltas: a large file's new chunks stored against the previous version's (``data/delta.py``).

Scattered edits leave no chunk unchanged, so deduplication alone stores every version again;
with deltas a version costs little more than its edited rows. Every read is still verified, and
gc, fsck, push and pull see a delta's base as one more chunk of the version.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import orjson
import pytest

from parity.api import data as data_api
from parity.api import remotes
from parity.core.errors import CorruptObject, UsageError
from parity.data import hashing, large_file
from parity.data.manifest import DATA_FORMAT, PLAIN_FORMAT, Chunk, DataVersion
from parity.data.manifest_body import build_body
from parity.data.packs import PackReader
from parity.data.pointer import Pointer, pointer_path, read_pointer, write_pointer
from parity.data.reachable import objects_of_version
from parity.data.versions import canonical_record_bytes, load_body, load_version
from parity.store.objects import open_object_store
from parity.store.objects.blob import HEADER_SIZE
from parity.store.objects.store import object_key
from parity.workspace import Workspace, init_workspace, open_workspace
from tests.data._trees import small_chunks

ROWS = 60_000  # ~3.6 MB of CSV: ~55 chunks of 64 KiB


class Table:
    """A CSV whose versions rewrite ~1 % of the rows, scattered, and append ~1 %."""

    def __init__(self, seed: int = 5) -> None:
        self.rng = random.Random(seed)
        self.rows = [self.row(i) for i in range(ROWS)]

    def row(self, i: int) -> str:
        rng = self.rng
        return (
            f"{i},{rng.random():.6f},{rng.gauss(0, 1):.6f},{rng.randint(0, 99999)},"
            f"{rng.choice(['Oslo', 'Lima', 'Riga'])},customer-{rng.randint(0, 10**9):010d}\n"
        )

    def edit(self, every: int | None = None, append: bool = True) -> None:
        """Rewrite 1 % of the rows at random (or every ``every``-th row), append 1 %."""
        count = len(self.rows) // 100
        picked = (
            range(0, len(self.rows), every)
            if every
            else self.rng.sample(range(len(self.rows)), count)
        )
        for index in picked:
            self.rows[index] = self.row(index)
        if append:
            self.rows += [self.row(len(self.rows) + k) for k in range(count)]

    def content(self) -> bytes:
        return "".join(self.rows).encode()


def _workspace(root: Path, deltas: bool = True) -> Workspace:
    root.mkdir(parents=True)
    workspace, _ = init_workspace(root)
    workspace.close()
    small_chunks(root)
    if not deltas:
        with open(root / ".parity" / "config.toml", "a") as config:
            config.write("deltas = false\n")  # appended to the [data] table small_chunks opened
    return open_workspace(root, environ={})


def _store_bytes(workspace: Workspace) -> int:
    objects = workspace.root / ".parity" / "objects"
    return sum(path.stat().st_size for path in objects.rglob("*") if path.is_file())


def _add_versions(
    workspace: Workspace, count: int, edit_every: int | None = None, append: bool = True
) -> tuple[list[bytes], list[str]]:
    """Add ``count`` versions of table.csv; return each version's content and id. With
    ``edit_every``, the last version rewrites every ``edit_every``-th row."""
    table = Table()
    contents: list[bytes] = []
    ids: list[str] = []
    for version in range(count):
        if version:
            table.edit(edit_every if version == count - 1 else None, append)
        contents.append(table.content())
        (workspace.root / "table.csv").write_bytes(contents[-1])
        ids.append(data_api.add(workspace.root / "table.csv", workspace=workspace).data_version)
    return contents, ids


def _check_out(workspace: Workspace, version_id: str) -> bytes:
    target = workspace.root / "table.csv"
    version = load_version(workspace.objects, version_id)
    write_pointer(pointer_path(target), Pointer(version_id, version.size, 1, version.kind))
    target.unlink(missing_ok=True)
    data_api.checkout([target], workspace=workspace)
    return target.read_bytes()


def _deltas(version: DataVersion) -> list[Chunk]:
    return [c for f in version.files for c in f.chunks if c.base is not None]


def _flip(workspace: Workspace, chunk: Chunk) -> None:
    pack_file = workspace.root / ".parity" / "objects" / object_key(chunk.pack)
    with open(pack_file, "r+b") as handle:
        handle.seek(HEADER_SIZE + chunk.offset + chunk.stored // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0x10]))


def test_scattered_edits_store_a_fraction_and_every_version_reads_back(tmp_path: Path) -> None:
    with_deltas = _workspace(tmp_path / "deltas")
    without = _workspace(tmp_path / "plain", deltas=False)
    try:
        contents, ids = _add_versions(with_deltas, 5)
        assert _add_versions(without, 5)[0] == contents
        stored, plain = _store_bytes(with_deltas), _store_bytes(without)
        # Deduplication alone stores each version again (every chunk holds an edited row).
        assert plain > len(contents[0]) * 1.2  # 5 times this CSV, each zstd'ed ~3x smaller
        assert stored < plain * 0.4, (stored, plain)

        assert len(set(ids)) == 5
        versions = [load_version(with_deltas.objects, i) for i in ids]
        assert not _deltas(versions[0])
        for number, version in enumerate(versions[1:], 1):
            deltas = _deltas(version)
            assert len(deltas) > len(version.files[0].chunks) // 2
            # Bases are whole entries earlier versions stored, and their packs are listed.
            assert all(c.base is not None and c.base.base is None for c in deltas)
            base_packs = {c.base.pack for c in deltas if c.base}
            assert base_packs <= set(version.packs)
            assert base_packs <= {p for earlier in versions[:number] for p in earlier.packs}
            assert versions[0].packs[0] in base_packs
        formats = [orjson.loads(with_deltas.objects.get_bytes(i))["format"] for i in ids]
        assert formats == [PLAIN_FORMAT] + [DATA_FORMAT] * 4
        for version_id, content in zip(ids, contents, strict=True):
            assert _check_out(with_deltas, version_id) == content
        # The same content added again is the same version (its deltas are found again).
        again = data_api.add(with_deltas.root / "table.csv", workspace=with_deltas)
        assert again.data_version == ids[-1]
        assert again.chunks_new == 0
        assert data_api.fsck(workspace=with_deltas).ok
    finally:
        with_deltas.close()
        without.close()


def test_a_flipped_byte_in_a_delta_or_in_its_base_is_named(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path / "w")
    try:
        _, ids = _add_versions(workspace, 2)
        version = load_version(workspace.objects, ids[1])
        delta = _deltas(version)[3]
        assert delta.base is not None
        base = delta.base
        pristine = {
            pack: (workspace.root / ".parity" / "objects" / object_key(pack)).read_bytes()
            for pack in version.packs
        }

        _flip(workspace, delta)
        with PackReader(workspace.objects) as reader, pytest.raises(CorruptObject) as info:
            reader.read(delta)
        assert info.value.digest == delta.digest
        with pytest.raises(CorruptObject) as info:
            _check_out(workspace, ids[1])
        assert info.value.digest == delta.digest
        assert not data_api.fsck(workspace=workspace).ok

        for pack, content in pristine.items():
            (workspace.root / ".parity" / "objects" / object_key(pack)).write_bytes(content)
        with PackReader(workspace.objects) as reader:
            reader.read(delta)  # healthy again
        _flip(workspace, base)
        with PackReader(workspace.objects) as reader, pytest.raises(CorruptObject) as info:
            reader.read(delta)
        assert info.value.digest == base.digest
        assert f"base of chunk {delta.digest[:12]}" in str(info.value)
        with pytest.raises(CorruptObject):
            _check_out(workspace, ids[1])
        assert [d for d, _ in data_api.fsck(workspace=workspace).corrupt] == [base.pack]
    finally:
        workspace.close()


def test_gc_keeps_the_bases_a_live_version_needs_and_frees_the_rest(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path / "w")
    try:
        # The last version rewrites a row in every chunk: it shares no chunk with the second.
        # Nothing is appended, so every new chunk of the second is a delta (never a base).
        contents, ids = _add_versions(workspace, 3, edit_every=100, append=False)
        first, second, third = (load_version(workspace.objects, i) for i in ids)
        assert read_pointer(pointer_path(workspace.root / "table.csv")).data_version == ids[2]
        bases = {c.base.pack for c in _deltas(third) if c.base}
        assert bases
        assert bases <= set(first.packs)

        plan = data_api.gc(delete=True, workspace=workspace)
        assert sorted(plan.delete_versions) == sorted(ids[:2])
        freed = (set(first.packs) | set(second.packs)) - set(third.packs)
        assert freed, "the second version's deltas are needed by nothing"
        assert set(plan.delete_packs) == freed
        assert all(workspace.objects.has(p) for p in third.packs)
        assert not any(workspace.objects.has(p) for p in freed)
        assert _check_out(workspace, ids[2]) == contents[2]
        assert data_api.fsck(workspace=workspace).ok
        # The index forgot the deleted packs and still places chunks correctly: adding the
        # current content again is the same version.
        again = data_api.add(workspace.root / "table.csv", workspace=workspace)
        assert again.data_version == ids[2]
    finally:
        workspace.close()


def test_push_to_a_folder_remote_then_pull_into_a_fresh_store(tmp_path: Path) -> None:
    here = _workspace(tmp_path / "here")
    there = _workspace(tmp_path / "there")
    try:
        contents, ids = _add_versions(here, 3)
        latest = ids[-1]
        remotes.add("backup", str(tmp_path / "remote"), workspace=here)
        assert data_api.push(workspace=here).result.ok
        remote = open_object_store(str(tmp_path / "remote"))
        needed = objects_of_version(here.objects, latest)
        assert {c.base.pack for c in _deltas(load_version(here.objects, latest)) if c.base}
        assert remote.missing(needed) == set()

        shutil.copy(pointer_path(here.root / "table.csv"), pointer_path(there.root / "table.csv"))
        remotes.add("backup", str(tmp_path / "remote"), workspace=there)
        pulled = data_api.pull([there.root / "table.csv"], workspace=there)
        assert pulled.result.ok
        assert (there.root / "table.csv").read_bytes() == contents[-1]
        assert data_api.fsck(workspace=there).ok
        # The pulled store adds the next version with deltas against what it pulled.
        table = Table()
        table.rows = contents[-1].decode().splitlines(keepends=True)
        table.edit()
        (there.root / "table.csv").write_bytes(table.content())
        added = data_api.add(there.root / "table.csv", workspace=there)
        assert _deltas(load_version(there.objects, added.data_version))
        assert _check_out(there, added.data_version) == table.content()
    finally:
        here.close()
        there.close()


def test_format_1_records_read_and_unchanged_entries_keep_their_deltas(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path / "w")
    try:
        folder = workspace.root / "data"
        folder.mkdir()
        table = Table()
        (folder / "table.csv").write_bytes(table.content())
        (folder / "note.txt").write_text("one\n")
        first = data_api.add(folder, workspace=workspace).data_version
        record = orjson.loads(workspace.objects.get_bytes(first))
        assert record["format"] == PLAIN_FORMAT  # without a delta: what earlier Parity wrote
        assert all(len(c) == 5 for f in record["body"]["files"] for c in f["chunks"])
        assert load_version(workspace.objects, first).to_record().format == PLAIN_FORMAT

        table.edit()
        (folder / "table.csv").write_bytes(table.content())
        second = data_api.add(folder, workspace=workspace).data_version
        (folder / "note.txt").write_text("two\n")  # the table's entry is copied as it is
        third = data_api.add(folder, workspace=workspace).data_version
        body = load_body(workspace.objects, third)
        version = DataVersion.from_dict(body)
        assert _deltas(version)
        # The copied entries are byte for byte what the record model writes.
        assert version.to_dict() == body
        assert canonical_record_bytes(version) == workspace.objects.get_bytes(third)
        assert build_body("folder", version.files, ()).body == body
        assert (
            load_version(workspace.objects, second).by_path()["table.csv"]
            == version.by_path()["table.csv"]
        )
        shutil.rmtree(folder)
        data_api.checkout([folder], workspace=workspace)
        assert (folder / "table.csv").read_bytes() == table.content()
        assert (folder / "note.txt").read_text() == "two\n"
    finally:
        workspace.close()


def test_a_base_that_is_a_delta_is_refused() -> None:
    row = ["a" * 64, 0, 5, 10, 100, ["b" * 64, 0, 20, 10, 100, ["c" * 64, 0, 40, 10, 100]]]
    body = {
        "kind": "file",
        "size": 100,
        "packs": ["d" * 64],
        "files": [{"path": "x", "size": 100, "mode": 420, "digest": "e" * 64, "chunks": [row]}],
        "folders": [],
    }
    with pytest.raises(UsageError, match="damaged data version record"):
        DataVersion.from_dict(body)
    with pytest.raises(UsageError, match="damaged data version record"):
        build_body("file", body["files"], (), body["packs"])  # type: ignore[arg-type]


@pytest.mark.parametrize("tail_whole", [large_file.TAIL_WHOLE, 0])
def test_re_reading_a_two_ended_file_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tail_whole: int
) -> None:
    """The chunks the second half cut before the halves met are in no chunk list: stored as
    deltas, nothing could find them again, and every re-read would store them anew."""
    monkeypatch.setattr(hashing, "PARALLEL_FROM", 1 << 20)  # chunked from both ends
    monkeypatch.setattr(large_file, "TAIL_WHOLE", tail_whole)
    workspace = _workspace(tmp_path / "w")
    try:
        _, ids = _add_versions(workspace, 2)
        target = workspace.root / "table.csv"
        os.utime(target, ns=(1, 1))  # the stat cache no longer vouches for it: read again
        again = data_api.add(target, workspace=workspace)
        assert again.data_version == ids[1]
        assert again.files_read == 1
        if tail_whole:
            assert again.bytes_stored == 0
        else:  # the failure the rule prevents, shown so this test can tell it apart
            assert again.bytes_stored > 0
    finally:
        workspace.close()
