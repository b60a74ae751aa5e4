"""Compare two logged models: by their files, then by their predictions on the golden rows.

The same files make the same model. Otherwise (a pickle of an equal model can differ in its
bytes) both are loaded here, hash-checked, and asked for predictions on the original's golden
rows, the rows kept when it was saved: class probabilities where the model has them (labels
hide most changes), else its predictions. Equal predictions count as identical, numbers within
the tolerance as close. When the models cannot be loaded here but were given the same golden
rows, the predictions stored with them answer instead.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from parity.core.errors import ParityError
from parity.core.model import ModelRecord
from parity.registry.loading import load_model_record, read_model_record
from parity.repro.files import value_errors
from parity.repro.outcome import Comparison, Outcome, judge
from parity.store.records import RecordStore

KIND = "model"


def _files(record: ModelRecord) -> dict[str, str]:
    golden = {record.golden_inputs, record.golden_predictions}
    return {f.path: f.digest for f in record.files if f.path not in golden}


def _golden(records: RecordStore, record: ModelRecord, path: str | None) -> Any:
    entry = record.file(path) if path else None
    return None if entry is None else json.loads(records.objects.get_bytes(entry.digest))


def _predict(records: RecordStore, model_id: str, rows: dict[str, Any]) -> list[Any]:
    """``model_id``'s predictions on golden rows, the model loaded here (files hash-checked).

    A model made with another version of its library warns when it loads: that difference is
    the environment's, which the report names; the comparison only needs the predictions."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _predictions(records, model_id, rows)


def _predictions(records: RecordStore, model_id: str, rows: dict[str, Any]) -> list[Any]:
    model = load_model_record(records, model_id)
    if rows.get("columns") is not None:
        import pandas as pd  # lazy: pandas only to rebuild a table of golden rows

        features: Any = pd.DataFrame(rows["data"], columns=rows["columns"])
    else:
        import numpy as np  # lazy: NumPy only to rebuild an array of golden rows

        features = np.asarray(rows["data"])
    import numpy as np  # lazy: NumPy only to read predictions back as lists

    predict = getattr(model, "predict_proba", None) or model.predict
    predictions: list[Any] = np.asarray(predict(features)).tolist()
    return predictions


def _by_predictions(
    subject: str, left: list[Any], right: list[Any], tolerance: float, how: str
) -> Comparison:
    if left == right:
        return Comparison(KIND, subject, Outcome.IDENTICAL, f"same predictions {how}")
    errors = value_errors(left, right)
    if errors is None:
        return Comparison(KIND, subject, Outcome.DIFFERENT, f"other predictions {how}")
    return Comparison(KIND, subject, judge(errors, tolerance), f"predictions {how}", *errors)


def compare_models(
    records: RecordStore, subject: str, original_id: str, reproduced_id: str, tolerance: float
) -> Comparison:
    """How the model the re-run logged at ``subject`` compares with the original's."""
    if original_id == reproduced_id:
        return Comparison(KIND, subject, Outcome.IDENTICAL, "the same model record")
    original = read_model_record(records, original_id)
    reproduced = read_model_record(records, reproduced_id)
    if _files(original) == _files(reproduced):
        return Comparison(KIND, subject, Outcome.IDENTICAL, "the same model files")
    on_golden = "on the golden rows"
    rows = _golden(records, original, original.golden_inputs)
    if rows is None:
        return Comparison(KIND, subject, Outcome.DIFFERENT, "other model files, no golden rows")
    try:
        stored = _predict(records, original_id, rows)
        again = _predict(records, reproduced_id, rows)
    except (ParityError, ImportError, ValueError, TypeError, AttributeError) as exc:
        same_rows = original.file(original.golden_inputs or "") == reproduced.file(
            reproduced.golden_inputs or ""
        )
        kept = _golden(records, original, original.golden_predictions)
        kept_again = _golden(records, reproduced, reproduced.golden_predictions)
        if same_rows and kept is not None and kept_again is not None:
            return _by_predictions(subject, kept, kept_again, tolerance, "stored with them")
        detail = f"other model files; predictions could not be compared here: {exc}"
        return Comparison(KIND, subject, Outcome.DIFFERENT, detail)
    return _by_predictions(subject, stored, again, tolerance, on_golden)
