"""fsck finds a flipped byte in a pack; checkout of that content refuses with CorruptObject."""

from __future__ import annotations

import json
from pathlib import Path

from parity.data.pointer import read_pointer
from parity.data.versions import load_version
from parity.store.objects.blob import HEADER_SIZE
from parity.store.objects.store import object_key
from parity.workspace import open_workspace
from tests.conftest import run_parity
from tests.data._trees import build_tree, small_chunks


def _flip_a_byte_of(workspace_dir: Path, path: str) -> str:
    """Flip one byte of ``path``'s content inside its pack; return the pack digest."""
    workspace = open_workspace(workspace_dir, environ={})
    try:
        pointer = read_pointer(workspace_dir / "data.parity")
        version = load_version(workspace.objects, pointer.data_version)
        chunk = version.by_path()[path].chunks[0]
        pack_file = workspace_dir / ".parity" / "objects" / object_key(chunk.pack)
    finally:
        workspace.close()
    with open(pack_file, "r+b") as handle:
        handle.seek(HEADER_SIZE + chunk.offset + chunk.stored // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0x01]))
    return chunk.pack


def test_fsck_reports_a_flipped_byte_and_checkout_refuses_it(workspace_dir: Path) -> None:
    small_chunks(workspace_dir)
    data = workspace_dir / "data"
    data.mkdir()
    build_tree(data)
    assert run_parity("data", "add", "data", cwd=workspace_dir).returncode == 0
    healthy = run_parity("data", "fsck", "--json", cwd=workspace_dir)
    assert healthy.returncode == 0, healthy.stdout
    assert json.loads(healthy.stdout)["ok"] is True

    pack = _flip_a_byte_of(workspace_dir, "a.csv")
    found = run_parity("data", "fsck", "--json", cwd=workspace_dir)
    assert found.returncode == 1
    report = json.loads(found.stdout)
    assert [entry["digest"] for entry in report["corrupt"]] == [pack]

    (data / "a.csv").unlink()
    refused = run_parity("data", "checkout", "data", cwd=workspace_dir)
    assert refused.returncode == 5
    assert "is corrupt" in refused.stderr
    assert "parity data fsck" in refused.stderr
    assert not (data / "a.csv").exists()
    assert not list(data.glob(".parity-*"))  # no half-written temp file left behind


def test_fsck_reports_a_missing_pack(workspace_dir: Path) -> None:
    data = workspace_dir / "data"
    data.mkdir()
    build_tree(data)
    assert run_parity("data", "add", "data", cwd=workspace_dir).returncode == 0
    workspace = open_workspace(workspace_dir, environ={})
    try:
        version = load_version(
            workspace.objects, read_pointer(workspace_dir / "data.parity").data_version
        )
        workspace.objects.delete(version.packs[0])
    finally:
        workspace.close()
    result = run_parity("data", "fsck", cwd=workspace_dir)
    assert result.returncode == 1
    assert f"missing: {version.packs[0]}" in result.stdout
    assert "1 missing" in result.stdout
