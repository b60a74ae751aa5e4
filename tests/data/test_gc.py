"""gc keeps what pointers (in the work tree and every git ref) and other records reach."""

from __future__ import annotations

import json
from pathlib import Path

from parity.core.records import StoredRecord
from parity.data.pointer import read_pointer
from parity.data.versions import load_version
from parity.store.meta.serving_tables import data_profiles
from parity.workspace import now_ms, open_workspace
from tests.conftest import run_parity
from tests.data._trees import git


def _add(root: Path, text: str) -> str:
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "f.txt").write_text(text)
    result = run_parity("data", "add", "data", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)[0]["data_version"])


def test_gc_deletes_only_what_nothing_reaches(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    assert run_parity("init", cwd=root).returncode == 0

    committed = _add(root, "in git history\n")
    git(root, "add", "data.parity", ".gitignore")
    git(root, "commit", "-q", "-m", "v1")
    used_by_model = _add(root, "a model was trained on this\n")
    profiled = _add(root, "a run read this (a row in the metadata store says so)\n")
    orphan = _add(root, "nobody needs this\n")
    current = _add(root, "what the work tree points at\n")

    workspace = open_workspace(root, environ={})
    try:
        model_body = {"training_data": used_by_model, "files": []}
        model_id = workspace.records.put(StoredRecord("model", 1, model_body), now_ms())
        artifact = workspace.objects.put_bytes(b"model weights, not data")
        orphan_packs = load_version(workspace.objects, orphan).packs
        with workspace.meta.write() as connection:
            connection.execute(
                data_profiles.insert().values(
                    data_version=profiled, profile_id="c" * 64, created_ms=now_ms()
                )
            )
    finally:
        workspace.close()

    dry = run_parity("data", "gc", "--json", cwd=root)
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert plan["delete_versions"] == [orphan]
    assert plan["delete_packs"] == sorted(orphan_packs)
    assert plan["deleted"] is False

    done = run_parity("data", "gc", "--yes", "--json", cwd=root)
    assert json.loads(done.stdout)["deleted"] is True
    workspace = open_workspace(root, environ={})
    try:
        store = workspace.objects
        for kept in (committed, used_by_model, profiled, current, model_id, artifact):
            assert store.has(kept)
        assert not store.has(orphan)
        assert not any(store.has(p) for p in orphan_packs)
        assert orphan not in workspace.meta.record_ids("data")
        assert read_pointer(root / "data.parity").data_version == current
    finally:
        workspace.close()
    assert run_parity("data", "fsck", cwd=root).returncode == 0
    git(root, "stash", "-q")  # the pointer of git history comes back; its data must too
    back = run_parity("data", "checkout", "data", "--force", cwd=root)
    assert back.returncode == 0, back.stderr
    assert (root / "data" / "f.txt").read_text() == "in git history\n"
    again = run_parity("data", "gc", "--json", cwd=root)
    assert json.loads(again.stdout)["delete_versions"] == []
