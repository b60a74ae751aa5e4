"""An add of a folder added before: unchanged files settled from the stat cache and their
entries copied from the previous record, the rest read; through stdlib sqlite3 for the embedded
database, or the metadata store (SQLAlchemy) otherwise, with the same records and rows."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import blake3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parity.api import _adding
from parity.api import data as data_api
from parity.core.errors import UsageError
from parity.data import index_direct
from parity.data.manifest import Chunk, DataVersion, FileEntry, make_version
from parity.data.manifest_body import PreviousBody, build_body
from parity.data.versions import canonical_record_bytes, load_body, load_version
from parity.store.meta import direct
from parity.workspace import DATABASE_FILE, PARITY_DIR, Workspace, open_workspace


def _write(folder: Path, files: dict[str, bytes]) -> None:
    """Write ``files``, dated a minute back as files written before the add are: none is recent
    enough to be racily clean, so the stat cache trusts them (setting the time moves ctime,
    which is part of the stat signature: only the files written here get it)."""
    then = time.time() - 60
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.utime(path, (then, then))


def _tree(count: int = 40) -> dict[str, bytes]:
    return {f"d{i % 4}/f{i:03d}.bin": os.urandom(500 + i * 37) for i in range(count)}


def _add(workspace: Workspace, path: Path) -> _adding.AddResult:
    return data_api.add(path, workspace=workspace)


def _checked_out(workspace: Workspace, folder: Path) -> dict[str, bytes]:
    """What checking the folder's version out again gives (every object read is verified)."""
    shutil.rmtree(folder)
    data_api.checkout([folder], workspace=workspace)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.bin")}


@pytest.fixture
def workspace(workspace_dir: Path) -> Workspace:
    ws = open_workspace(workspace_dir, environ={})
    yield ws
    ws.close()


def test_one_changed_one_added_one_removed_give_the_right_record_and_objects(
    workspace: Workspace,
) -> None:
    folder = workspace.root / "data"
    files = _tree()
    _write(folder, files)
    first = _add(workspace, folder)
    assert first.files_read == len(files)

    files["d1/f001.bin"] = os.urandom(900)  # changed
    files["d2/new.bin"] = os.urandom(700)  # added
    del files["d3/f003.bin"]  # removed
    (folder / "d3" / "f003.bin").unlink()
    _write(folder, {name: files[name] for name in ("d1/f001.bin", "d2/new.bin")})
    second = _add(workspace, folder)

    assert second.changed
    assert second.files == len(files)
    assert second.files_read == 2  # the changed and the added file; the rest settled
    body = load_body(workspace.objects, second.data_version)
    version = DataVersion.from_dict(body)
    # Byte for byte the record DataVersion writes for these files.
    assert canonical_record_bytes(version) == workspace.objects.get_bytes(second.data_version)
    assert {f.path: f.digest for f in version.files} == {
        name: blake3.blake3(content).hexdigest() for name, content in files.items()
    }
    unchanged = load_version(workspace.objects, first.data_version).by_path()["d0/f000.bin"]
    assert version.by_path()["d0/f000.bin"] == unchanged  # copied, chunks and all
    assert _checked_out(workspace, folder) == files


def test_a_pack_no_longer_used_renumbers_the_copied_entries(workspace: Workspace) -> None:
    folder = workspace.root / "data"
    _write(folder, {"a.bin": os.urandom(800)})
    _add(workspace, folder)
    _write(folder, {"b.bin": os.urandom(900)})
    two = load_version(workspace.objects, _add(workspace, folder).data_version)
    assert len(two.packs) == 2  # a's pack, then b's
    (folder / "a.bin").unlink()
    third = _add(workspace, folder)

    assert third.files_read == 0
    body = load_body(workspace.objects, third.data_version)
    assert body["packs"] == [two.by_path()["b.bin"].chunks[0].pack]
    assert body["files"][0]["chunks"][0][1] == 0  # was pack 1 in the previous record
    version = DataVersion.from_dict(body)
    assert canonical_record_bytes(version) == workspace.objects.get_bytes(third.data_version)
    assert version.by_path()["b.bin"] == two.by_path()["b.bin"]


def test_a_racily_clean_file_is_hashed_again(workspace: Workspace) -> None:
    """A file modified at or after the scan's mark (here: dated in the future, as a file
    written within the timestamp granularity of the scan looks) is never trusted: each add
    reads it again, until it is older than a scan."""
    folder = workspace.root / "data"
    _write(folder, _tree(10))
    racy = folder / "d0" / "f000.bin"
    later = time.time() + 3600
    os.utime(racy, (later, later))
    assert _add(workspace, folder).files_read == 10
    again = _add(workspace, folder)
    assert again.files_read == 1  # the racy file only: its digest was not remembered
    assert not again.changed
    earlier = time.time() - 60
    os.utime(racy, (earlier, earlier))
    assert _add(workspace, folder).files_read == 1  # now old enough, read once more…
    assert _add(workspace, folder).files_read == 0  # …and trusted from then on


def test_a_file_rewritten_with_the_same_size_and_mtime_is_read(workspace: Workspace) -> None:
    folder = workspace.root / "data"
    _write(folder, _tree(10))
    _add(workspace, folder)
    target = folder / "d1" / "f001.bin"
    before = target.stat()
    target.write_bytes(os.urandom(before.st_size))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # ctime still moves
    added = _add(workspace, folder)
    assert added.files_read == 1
    assert added.changed
    digest = load_version(workspace.objects, added.data_version).by_path()["d1/f001.bin"].digest
    assert digest == blake3.blake3(target.read_bytes()).hexdigest()


def _rows(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """The index rows an add writes, without their clock columns."""
    with sqlite3.connect(database) as connection:
        return {
            "chunks": connection.execute(
                'SELECT digest, pack, "offset", stored, size FROM data_chunks ORDER BY digest'
            ).fetchall(),
            "packs": connection.execute("SELECT digest FROM data_packs ORDER BY 1").fetchall(),
            "records": connection.execute(
                "SELECT id, kind, label FROM records ORDER BY id"
            ).fetchall(),
        }


def _history(root: Path, monkeypatch: pytest.MonkeyPatch, direct_path: bool) -> list[str]:
    """The same three adds (new folder, edits, a removal) in the workspace at ``root``."""
    used: list[bool] = []
    opener = index_direct.open_direct_index

    def spy(database: Path, store: object) -> object:
        found = opener(database, store) if direct_path else None  # type: ignore[arg-type]
        used.append(found is not None)
        return found

    monkeypatch.setattr(_adding, "open_direct_index", spy)
    folder = root / "data"
    ids = []
    with open_workspace(root, environ={}) as ws:
        for step in range(3):
            _write(folder, {f"f{i}.bin": bytes([step, i]) * (300 + i) for i in range(step, 8)})
            if step == 2:
                (folder / "f7.bin").unlink()
            ids.append(_add(ws, folder).data_version)
    assert used == [direct_path] * 3
    return ids


def test_the_direct_path_and_the_metadata_store_write_the_same_records_and_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parity.workspace import init_workspace

    roots = []
    for name in ("direct", "store"):
        root = tmp_path / name
        root.mkdir()
        init_workspace(root)[0].close()
        roots.append(root)
    direct_ids = _history(roots[0], monkeypatch, direct_path=True)
    store_ids = _history(roots[1], monkeypatch, direct_path=False)

    assert direct_ids == store_ids  # the records are byte for byte the same
    for version_id in direct_ids:
        paths = [root / PARITY_DIR / "objects" for root in roots]
        assert [len(list(p.rglob(f"{version_id[2:]}*"))) for p in paths] == [1, 1]
    database = [root / PARITY_DIR / DATABASE_FILE for root in roots]
    assert _rows(database[0]) == _rows(database[1])
    assert len(_rows(database[0])["records"]) == 3


def test_another_schema_falls_back_to_the_metadata_store(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The door refuses a database not at exactly this Parity's heads (here: heads it does not
    # know); the add then goes through the metadata store, which accepts this database.
    monkeypatch.setattr(direct, "HEADS", ("x001",))
    assert _adding.direct_index(workspace) is None
    folder = workspace.root / "data"
    _write(folder, _tree(5))
    added = _add(workspace, folder)
    assert added.files == 5
    assert added.data_version in workspace.records.meta.record_ids("data")


def test_a_newer_schema_is_refused_by_the_metadata_store_s_own_message(
    workspace: Workspace,
) -> None:
    with sqlite3.connect(workspace.parity_dir / DATABASE_FILE) as connection:
        connection.execute("INSERT INTO alembic_version VALUES ('z999')")
    folder = workspace.root / "data"
    _write(folder, _tree(3))
    with pytest.raises(Exception, match="newer"):
        _add(workspace, folder)


def test_a_team_database_never_takes_the_direct_path(workspace_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.db"
    ws = open_workspace(workspace_dir, environ={"PARITY_METADATA_URL": f"sqlite:///{other}"})
    try:
        assert _adding.direct_index(ws) is None
    finally:
        ws.close()
    ws = open_workspace(workspace_dir, environ={})
    try:
        found = _adding.direct_index(ws)
        assert found is not None
        found.close()
    finally:
        ws.close()


def test_an_incremental_add_imports_no_sqlalchemy(workspace: Workspace) -> None:
    folder = workspace.root / "data"
    _write(folder, _tree(20))
    _add(workspace, folder)
    _write(folder, {"d0/f000.bin": b"changed"})
    code = (
        "import sys; from parity.api import data; "
        "r = data.add('data'); "
        "assert r.files_read == 1, r; "
        "assert not [m for m in sys.modules if m.startswith('sqlalchemy')], 'sqlalchemy'"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARITY_")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=workspace.root, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


# build_body against DataVersion.to_dict -------------------------------------------------------
_PACKS = [f"{n:064x}" for n in range(1, 5)]


def _entry(path: str, seed: int, pack: int) -> FileEntry:
    digest = blake3.blake3(f"{path}{seed}".encode()).hexdigest()
    chunk = Chunk(digest, _PACKS[pack], seed * 10, 5 + seed, 5 + seed)
    return FileEntry(path, 5 + seed, 0o644 if seed % 2 else 0o755, digest, (chunk,))


names = st.lists(st.sampled_from([f"f{i}" for i in range(8)]), unique=True, max_size=8)


@given(
    old=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 3)), min_size=8, max_size=8),
    kept=names,
    new=names,
)
def test_a_body_built_from_copies_is_the_body_of_the_same_files(
    old: list[tuple[int, int]], kept: list[str], new: list[str]
) -> None:
    previous = make_version(
        "folder", [_entry(f"f{i}", seed, pack) for i, (seed, pack) in enumerate(old)]
    )
    before = PreviousBody(previous.to_dict())
    files: dict[str, FileEntry | dict[str, object]] = {name: before.by_path[name] for name in kept}
    files.update({name: _entry(name, 20 + len(name), 3) for name in new if name not in files})
    built = build_body("folder", [files[n] for n in sorted(files)], ["e"], before.packs)
    expected = make_version(
        "folder",
        [f if isinstance(f, FileEntry) else previous.by_path()[n] for n, f in files.items()],
        ["e"],
    )
    assert built.record_bytes() == canonical_record_bytes(expected)
    assert (built.files, built.size) == (len(expected.files), expected.size)


def test_a_copied_entry_naming_no_pack_is_a_damaged_record() -> None:
    previous = make_version("folder", [_entry("f0", 1, 0)])
    before = PreviousBody(previous.to_dict())
    entry = dict(before.by_path["f0"])
    entry["chunks"] = [[entry["chunks"][0][0], 7, 0, 5, 5]]  # type: ignore[index]
    with pytest.raises(UsageError, match="damaged data version record"):
        build_body("folder", [entry], [], before.packs)
