"""``parity.load_model`` through the public door: references, and a tampered blob refused."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import zstandard

import parity
from parity.api import models
from parity.registry.loading import read_model_record
from parity.store.objects.blob import CODEC_RAW, CODEC_ZSTD, header
from parity.workspace import Workspace, open_workspace
from tests.conftest import run_parity
from tests.registry._factory_model import fitted_factory_model


class Doubler:
    """Module level, so it pickles: a generic predict() model (the pickle flavor)."""

    def predict(self, rows: object) -> object:
        return np.asarray(rows)[:, 0] * 2


class WritesMarker:
    """Unpickling this writes a file: what an attacker's pickle would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (Path.write_text, (self.marker, "pwned"))


@pytest.fixture
def doubler(workspace_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """``doubler/1`` aliased production, in a workspace that is the current folder."""
    monkeypatch.chdir(workspace_dir)
    workspace = open_workspace(workspace_dir, environ={})
    model_id, _ = models.save(
        Doubler(), input_example=np.array([[1.0], [2.0]]), workspace=workspace
    )
    actor = workspace.actor()
    workspace.registry.register("doubler", model_id, actor)
    workspace.registry.set_alias("doubler", 1, "production", actor, reason="test")
    yield workspace
    workspace.close()


def test_every_model_reference_loads_the_same_model(doubler: Workspace) -> None:
    rows = np.array([[1.5], [4.0]])
    for reference in ("doubler@production", "doubler/1", "doubler"):
        # A plain pickle (the pyfunc flavor) runs any code it names: the loader must opt in.
        with pytest.raises(parity.UsageError, match=r"plain pickle \(flavor pyfunc\)"):
            parity.load_model(reference)
        model = parity.load_model(reference, allow_unrestricted_pickle=True)
        assert np.array_equal(model.predict(rows), [3.0, 8.0]), reference  # type: ignore[attr-defined]


def test_a_tampered_pickle_is_refused_before_anything_in_it_runs(
    doubler: Workspace, tmp_path: Path
) -> None:
    version = doubler.registry.resolve("doubler@production")
    record = read_model_record(doubler.records, version.model_id)
    artifact = record.file("model.pkl")
    assert artifact is not None
    blob = doubler.objects.backend.local_path(f"{artifact.digest[:2]}/{artifact.digest[2:]}")
    assert blob is not None
    marker = tmp_path / "marker.txt"
    # A well-formed blob (valid header) whose content is a malicious pickle.
    blob.write_bytes(header(CODEC_RAW) + pickle.dumps(WritesMarker(marker)))
    with pytest.raises(parity.CorruptObject, match=artifact.digest) as caught:
        parity.load_model("doubler@production", verify_env=False)
    assert caught.value.exit_code == 5
    assert not marker.exists()
    # Unpickling those bytes directly would have written the marker: the test can fail.
    pickle.loads(blob.read_bytes()[len(header(CODEC_RAW)) :])
    assert marker.read_text() == "pwned"


def test_unknown_references_say_what_exists(doubler: Workspace) -> None:
    with pytest.raises(parity.NotFoundError, match="has no alias 'staging'"):
        parity.load_model("doubler@staging")
    with pytest.raises(parity.NotFoundError, match="has no version 7"):
        parity.load_model("doubler/7")


def test_a_lower_risk_difference_loads_with_a_warning(doubler: Workspace) -> None:
    """Made with another OMP_NUM_THREADS (a low-risk difference): loads, and says so."""
    from dataclasses import replace

    from parity.api.models import EnvironmentMismatchWarning
    from parity.env import capture
    from parity.env.records import store_environment

    here = capture()
    threads = "7" if here.numerics.get("OMP_NUM_THREADS") != "7" else "8"
    elsewhere = replace(here, numerics={**here.numerics, "OMP_NUM_THREADS": threads})
    environment_id = store_environment(doubler.records, elsewhere, 1)
    model_id, _ = models.save(Doubler(), environment_id=environment_id, workspace=doubler)
    doubler.registry.register("threads", model_id, doubler.actor())
    expected = rf"env OMP_NUM_THREADS {threads} -> .* \(low\)"
    with pytest.warns(EnvironmentMismatchWarning, match=expected):
        model = parity.load_model("threads/1", allow_unrestricted_pickle=True)
    assert np.array_equal(model.predict(np.array([[2.0]])), [4.0])  # type: ignore[attr-defined]


def test_an_unrestricted_pickle_needs_the_option_at_log_and_at_load(
    workspace_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workspace_dir)
    workspace = open_workspace(workspace_dir, environ={})
    try:
        with parity.start_run(experiment="factory", workspace=workspace) as run:
            with pytest.raises(parity.UsageError, match="allow_unrestricted_pickle=True"):
                run.log_model(fitted_factory_model(), "model")
            run.log_model(fitted_factory_model(), "model", allow_unrestricted_pickle=True)
        with pytest.raises(parity.UsageError, match="is an unrestricted pickle"):
            parity.load_model(f"{run.id}:model")
        model = parity.load_model(f"{run.id}:model", allow_unrestricted_pickle=True)
        assert model.predict([[0.0]]).tolist() == [1]  # type: ignore[attr-defined]
    finally:
        workspace.close()


def _stored_file(workspace: Workspace, reference: str, path: str) -> tuple[Path, int]:
    """The local blob of the model file ``path`` of ``reference``, and its recorded size."""
    version = workspace.registry.resolve(reference)
    record = read_model_record(workspace.records, version.model_id)
    artifact = record.file(path)
    assert artifact is not None
    blob = workspace.objects.backend.local_path(f"{artifact.digest[:2]}/{artifact.digest[2:]}")
    assert blob is not None
    return blob, artifact.size


def test_a_zstd_bomb_stops_at_the_recorded_size(doubler: Workspace) -> None:
    blob, size = _stored_file(doubler, "doubler@production", "model.pkl")
    # 256 MiB of zeros compress to a few KB: a record naming this blob says a few hundred bytes.
    compressor = zstandard.ZstdCompressor(level=19).compressobj()
    bomb = b"".join(compressor.compress(bytes(1 << 20)) for _ in range(256)) + compressor.flush()
    assert len(bomb) < 64 << 10
    blob.write_bytes(header(CODEC_ZSTD) + bomb)
    with pytest.raises(parity.CorruptObject, match=f"more than the {size} bytes recorded"):
        parity.load_model("doubler@production", verify_env=False)


def test_models_verify_checks_the_files_and_says_which_failed(doubler: Workspace) -> None:
    assert models.verify("doubler@production").ok
    blob, _ = _stored_file(doubler, "doubler@production", "model.pkl")
    blob.write_bytes(header(CODEC_RAW) + b"not the pickle that was saved")
    check = models.verify("doubler@production")
    assert not check.ok
    assert check.result.ok  # the environment is fine: the file is what failed
    assert [f.path for f in check.files] == ["model.pkl"]
    assert "hashes to" in check.files[0].problem
    report = run_parity("models", "verify", "doubler@production", "--json", cwd=doubler.root)
    assert report.returncode == 1
    document = json.loads(report.stdout)
    assert (document["ok"], document["environment_ok"], document["files_ok"]) == (
        False,
        True,
        False,
    )
    table = run_parity("models", "verify", "doubler@production", cwd=doubler.root)
    assert table.returncode == 1
    assert "doubler/1: not verified" in table.stdout
    assert table.stderr.startswith("error: doubler/1's file model.pkl is damaged")
