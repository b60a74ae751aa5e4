"""A model bundle: copied out of one workspace, taken into another under its own version
number, every object verified; a changed bundle or another model is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parity.api import deploy, models
from parity.core.errors import CheckFailed, ConflictError
from parity.deploy.bundle import MANIFEST, OBJECTS, write_bundle
from parity.registry.loading import read_model_record
from parity.workspace import Workspace, open_workspace
from tests.conftest import run_parity


def _bundle(workspace: Workspace, folder: Path) -> str:
    version = workspace.registry.resolve("bc/1")
    workspace.registry.register("bc", version.model_id, workspace.actor())  # bc/2, same model
    write_bundle(
        workspace.records,
        workspace.registry.resolve("bc/2"),
        read_model_record(workspace.records, version.model_id),
        folder,
    )
    return version.model_id


def test_unpack_takes_the_model_in_under_its_own_number(
    trained_workspace: Workspace, tmp_path: Path
) -> None:
    model_id = _bundle(trained_workspace, tmp_path / "model")
    done = run_parity(
        "deploy", "unpack", str(tmp_path / "model"), "--into", str(tmp_path / "image"),
        "--model-id", model_id, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "took bc/2" in done.stdout
    image = open_workspace(tmp_path / "image", environ={})
    assert [v.ref for v in models.versions("bc", workspace=image)] == ["bc/2"]
    assert models.verify("bc/2", workspace=image).files_ok
    assert [e.action for e in models.history("bc", workspace=image)] == ["adopt"]
    # Again: nothing changes (a rebuilt layer).
    deploy.unpack(tmp_path / "model", tmp_path / "image", model_id=model_id)
    assert len(models.history("bc", workspace=image)) == 1
    image.close()


def test_another_model_or_a_changed_object_is_refused(
    trained_workspace: Workspace, tmp_path: Path
) -> None:
    model_id = _bundle(trained_workspace, tmp_path / "model")
    with pytest.raises(ConflictError, match="not 000000000000"):
        deploy.unpack(tmp_path / "model", tmp_path / "a", model_id="0" * 64)
    record = read_model_record(trained_workspace.records, model_id)
    largest = max(record.files, key=lambda f: f.size)
    blob = tmp_path / "model" / OBJECTS / largest.digest[:2] / largest.digest[2:]
    damaged = bytearray(blob.read_bytes())
    damaged[-1] ^= 0xFF
    blob.write_bytes(bytes(damaged))
    with pytest.raises(CheckFailed, match="is damaged"):
        deploy.unpack(tmp_path / "model", tmp_path / "b", model_id=model_id)
    manifest = json.loads((tmp_path / "model" / MANIFEST).read_text())
    assert manifest["model"]["version"] == 2
