"""Saving models by flavor, and loading them only after every byte is verified."""

from __future__ import annotations

import logging
import pickle
import time
from pathlib import Path

import numpy as np
import pytest

from parity.core.errors import CorruptObject, UsageError
from parity.registry.loading import load_model_record, read_model_record
from parity.registry.saving import save_model
from parity.store.meta import open_metadata_store
from parity.store.objects import open_object_store
from parity.store.records import RecordStore
from tests.registry._factory_model import fitted_factory_model


@pytest.fixture
def records(tmp_path: Path) -> RecordStore:
    meta = open_metadata_store(f"sqlite:///{tmp_path / 'parity.db'}")
    yield RecordStore(open_object_store(str(tmp_path / "objects")), meta)  # type: ignore[misc]
    meta.close()


@pytest.fixture(scope="module")
def trained() -> tuple[object, object]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    frame = load_breast_cancer(as_frame=True).frame
    features = frame.drop(columns="target")
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(features, frame["target"])
    return model, features


def test_sklearn_model_round_trips_with_its_globals_recorded(
    records: RecordStore, trained: tuple[object, object]
) -> None:
    model, features = trained
    model_id, record = save_model(model, records, 1, input_example=features)
    assert record.flavor == "sklearn"
    assert record.loader["format"] == "restricted-pickle"
    assert "sklearn.ensemble._forest:RandomForestClassifier" in record.loader["globals"]
    assert "sklearn.tree._classes:DecisionTreeClassifier" in record.loader["globals"]
    assert record.signature is not None
    assert record.signature.input_names[:2] == ("mean radius", "mean texture")
    assert record.signature.inputs[0].dtype == "float64"
    assert {"scikit-learn", "numpy", "scipy"} <= set(record.requirements)
    loaded = load_model_record(records, model_id)
    assert np.array_equal(loaded.predict(features), model.predict(features))  # type: ignore[attr-defined]
    assert read_model_record(records, model_id) == record


def test_a_model_file_naming_a_global_its_record_does_not_list_is_refused_unrun(
    tmp_path: Path,
) -> None:
    from parity.registry.flavors.sklearn import SklearnFlavor

    marker = tmp_path / "marker.txt"
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(_WritesMarker(marker)))
    loader = {
        "format": "restricted-pickle",
        "file": "model.pkl",
        "globals": ["sklearn.ensemble._forest:RandomForestClassifier"],
    }
    with pytest.raises(CorruptObject, match=r"refers to pathlib\.Path\.write_text"):
        SklearnFlavor().load(tmp_path, loader)
    assert not marker.exists()


def test_a_model_saved_in_the_earlier_skops_format_still_loads(
    tmp_path: Path, trained: tuple[object, object]
) -> None:
    import skops.io as sio

    from parity.registry.flavors.sklearn import SklearnFlavor

    model, features = trained
    sio.dump(model, tmp_path / "model.skops")
    trusted = sorted(sio.get_untrusted_types(file=tmp_path / "model.skops"))
    loader = {"format": "skops", "file": "model.skops", "trusted_types": trusted}
    flavor = SklearnFlavor()
    loaded = flavor.load(tmp_path, loader)
    assert np.array_equal(loaded.predict(features), model.predict(features))  # type: ignore[attr-defined]
    assert {"sklearn", "numpy", "scipy"} <= flavor.referenced_modules(tmp_path, loader)


def test_globals_are_matched_by_module_and_name_not_by_the_dotted_whole(tmp_path: Path) -> None:
    from parity.registry.flavors.pickled import load_restricted

    # GLOBAL "sklearn pipeline.Pipeline" joins to the same dotted text as the listed
    # "sklearn.pipeline:Pipeline" but names another attribute path: it must not pass.
    stream = b"csklearn\npipeline.Pipeline\n."
    (tmp_path / "model.pkl").write_bytes(stream)
    with pytest.raises(CorruptObject, match="does not list"):
        load_restricted(tmp_path / "model.pkl", frozenset({"sklearn.pipeline:Pipeline"}))


class ThresholdModel:
    """Module-level, so it pickles: the generic predict() flavor."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def predict(self, rows: object) -> object:
        return (np.asarray(rows)[:, 0] > self.threshold).astype(int)


def test_any_object_with_predict_is_a_pyfunc(records: RecordStore) -> None:
    rows = np.array([[0.1, 1.0], [0.9, 2.0]])
    model_id, record = save_model(ThresholdModel(0.5), records, 1, input_example=rows)
    assert record.flavor == "pyfunc"
    assert "numpy" in record.requirements
    loaded = load_model_record(records, model_id, allow_unrestricted_pickle=True)
    assert list(loaded.predict(rows)) == [0, 1]


class _WritesMarker:
    """Unpickling this runs ``Path.write_text``: what an attacker's pickle would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (Path.write_text, (self.marker, "pwned"))


def test_tampered_pickle_is_refused_and_never_executed(
    records: RecordStore, tmp_path: Path
) -> None:
    model_id, record = save_model(ThresholdModel(0.5), records, 1)
    artifact = record.file("model.pkl")
    assert artifact is not None
    marker = tmp_path / "marker.txt"
    blob = records.objects.backend.local_path(f"{artifact.digest[:2]}/{artifact.digest[2:]}")
    assert blob is not None
    # Replace the stored bytes with a malicious pickle, keeping the blob header intact.
    header = blob.read_bytes()[:6]
    blob.write_bytes(header[:5] + b"\x00" + pickle.dumps(_WritesMarker(marker)))
    with pytest.raises(CorruptObject, match=artifact.digest):
        load_model_record(records, model_id)
    assert not marker.exists()


def test_environment_check_runs_after_verification_and_before_loading(
    records: RecordStore,
) -> None:
    model_id, _ = save_model(ThresholdModel(0.5), records, 1)
    seen: list[str] = []

    def refuse(record: object) -> None:
        seen.append("checked")
        raise RuntimeError("environment differs")

    with pytest.raises(RuntimeError, match="environment differs"):
        load_model_record(records, model_id, check_environment=refuse)
    assert seen == ["checked"]


def test_pickle_scan_names_modules_without_running_anything(tmp_path: Path) -> None:
    from parity.registry.flavors.pickled import modules_in_pickle

    marker = tmp_path / "marker.txt"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(_WritesMarker(marker)))
    assert "pathlib" in modules_in_pickle(path)
    time.sleep(0)
    assert not marker.exists()


def test_an_artifact_path_that_escapes_the_model_folder_is_refused(
    records: RecordStore, tmp_path: Path
) -> None:
    import dataclasses

    from parity.registry.loading import fetch_model_files

    rows = np.array([[0.1, 1.0], [0.9, 2.0]])
    _, record = save_model(ThresholdModel(0.5), records, 1, input_example=rows)
    first = record.files[0]
    escaping = dataclasses.replace(
        record, files=(dataclasses.replace(first, path="../outside.txt"), *record.files[1:])
    )
    target = tmp_path / "model"
    target.mkdir()
    with pytest.raises(CorruptObject, match="escapes the model folder"):
        fetch_model_files(records, escaping, target)
    assert not (tmp_path / "outside.txt").exists()


def test_a_pickle_whose_globals_cannot_be_listed_is_refused_at_save(records: RecordStore) -> None:
    with pytest.raises(UsageError) as info:
        save_model(fitted_factory_model(), records, 1)
    assert str(info.value).startswith(
        "this FactoryModel cannot be stored as a restricted pickle: cannot list what its pickle "
        "refers to (UnpicklingError: NEWOBJ "
    )
    assert info.value.hint == (
        "pass allow_unrestricted_pickle=True to store it as a plain pickle, "
        "which then loads only with the same option"
    )
    assert records.meta.record_ids() == []  # nothing half-stored


def test_an_unrestricted_pickle_is_saved_and_loaded_only_on_request(
    records: RecordStore, caplog: pytest.LogCaptureFixture
) -> None:
    model = fitted_factory_model()
    with caplog.at_level(logging.WARNING, logger="parity.registry"):
        model_id, record = save_model(model, records, 1, allow_unrestricted_pickle=True)
    assert record.loader["format"] == "pickle"
    assert record.loader["reason"].startswith(
        "cannot list what its pickle refers to (UnpicklingError: NEWOBJ class argument"
    )
    assert "saving a FactoryModel as an unrestricted pickle (opted in)" in caplog.text

    caplog.clear()
    with pytest.raises(UsageError, match=r"is an unrestricted pickle .*may run any code"):
        load_model_record(records, model_id)
    assert caplog.text == ""
    with caplog.at_level(logging.WARNING, logger="parity.registry"):
        loaded = load_model_record(records, model_id, allow_unrestricted_pickle=True)
    assert loaded.predict([[5.0]]).tolist() == [1]  # type: ignore[attr-defined]
    assert "loading an unrestricted scikit-learn pickle (opted in)" in caplog.text


@pytest.mark.parametrize(
    ("loader", "message"),
    [
        ({"format": "pickle", "file": "model.pkl"}, r"unrestricted pickle \(saved by an earlier"),
        ({"format": "onnx", "file": "model.pkl"}, "format 'onnx', unknown to this Parity"),
    ],
)
def test_an_unlisted_pickle_never_loads_by_default(
    tmp_path: Path, loader: dict[str, str], message: str
) -> None:
    from parity.registry.flavors.sklearn import SklearnFlavor

    marker = tmp_path / "marker.txt"
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(_WritesMarker(marker)))
    with pytest.raises(UsageError, match=message):
        SklearnFlavor().load(tmp_path, loader)
    assert not marker.exists()


def _plant(records: RecordStore, model_id: str, payload: bytes, **loader: object) -> str:
    """Register a model record whose pickle is ``payload`` (its digest honest) and whose loader
    settings are ``loader``: what anyone allowed to register a model can write."""
    import dataclasses

    from parity.core.model import ArtifactFile

    record = read_model_record(records, model_id)
    digest = records.objects.put_bytes(payload)
    files = tuple(
        ArtifactFile(f.path, digest, len(payload)) if f.path == "model.pkl" else f
        for f in record.files
    )
    forged = dataclasses.replace(record, files=files, loader={**record.loader, **loader})
    return records.put(forged.to_record(), 2)


def test_a_record_cannot_widen_what_a_restricted_pickle_may_call(
    records: RecordStore, trained: tuple[object, object], tmp_path: Path
) -> None:
    from parity.registry.flavors.pickled import UntrustedPickle

    model, _ = trained
    model_id, _ = save_model(model, records, 1)
    marker = tmp_path / "marker.txt"
    evil = pickle.dumps(_WritesMarker(marker))
    # The forged record lists the attacker's global: the loader's own policy still refuses it.
    forged = _plant(records, model_id, evil, globals=["pathlib:Path.write_text", "pathlib:Path"])
    with pytest.raises(UntrustedPickle, match=r"refers to pathlib\.Path\.write_text"):
        load_model_record(records, forged)
    assert not marker.exists()


@pytest.mark.parametrize(
    "target",
    [
        ("posix", "system"),
        ("numpy", "load"),  # unpickles whatever file it is given
        ("numpy.testing._private.utils", "runstring"),  # exec()s a string
        ("numpy", "random.os.system"),  # a dotted name walking out of an allowed module
        ("numpy", "memmap"),  # a class whose constructor creates files
        ("builtins", "eval"),
        ("builtins", "getattr"),
        ("sklearn.tree", "export_graphviz"),  # a function in sklearn that writes files
    ],
)
def test_the_loader_policy_refuses_what_runs_code_or_touches_files(
    target: tuple[str, str],
) -> None:
    from parity.registry.flavors import pickle_policy

    assert pickle_policy.resolve(*target) is None


def test_the_loader_policy_allows_what_models_are_made_of() -> None:
    from parity.registry.flavors import pickle_policy

    for module, name in [
        ("sklearn.ensemble._forest", "RandomForestClassifier"),
        ("numpy", "ndarray"),
        ("numpy", "log1p"),
        ("sklearn.feature_selection._univariate_selection", "f_classif"),
        ("numpy._core.multiarray", "_reconstruct"),
    ]:
        assert pickle_policy.resolve(module, name) is not None, (module, name)


def test_a_plain_pickle_loads_only_when_the_loader_opts_in(
    records: RecordStore, tmp_path: Path
) -> None:
    from parity.registry.flavors.pickled import UntrustedPickle

    model_id, _ = save_model(ThresholdModel(0.5), records, 1)
    marker = tmp_path / "marker.txt"
    forged = _plant(records, model_id, pickle.dumps(_WritesMarker(marker)))
    with pytest.raises(UntrustedPickle, match="plain pickle") as info:
        load_model_record(records, forged)
    assert "allow_unrestricted_pickle=True" in (info.value.hint or "")
    assert not marker.exists()
    # The saver's choice of a plain pickle is not the loader's: only the loader's option counts.
    load_model_record(records, forged, allow_unrestricted_pickle=True)
    assert marker.read_text() == "pwned"


def test_common_scikit_learn_models_load_restricted(records: RecordStore) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    rows = np.random.default_rng(0).random((40, 4))
    labels = (rows[:, 0] > 0.5).astype(int)
    for model in (
        HistGradientBoostingClassifier(max_iter=3).fit(rows, labels),
        KNeighborsClassifier(3).fit(rows, labels),
        make_pipeline(
            FunctionTransformer(np.log1p), StandardScaler(), SelectKBest(f_classif, k=2)
        ).fit(rows, labels),
    ):
        model_id, record = save_model(model, records, 1)
        assert record.loader["format"] == "restricted-pickle"
        load_model_record(records, model_id)
