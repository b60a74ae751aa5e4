"""Save a model: its flavor's files into the object store, and a model record describing them."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from parity.core.model import ArtifactFile, ModelRecord
from parity.registry.flavors import flavor_for, flavor_named
from parity.registry.requirements import distributions_for_modules
from parity.registry.signature import head, infer_signature, predictions_to_json, to_rows
from parity.store.records import RecordStore

GOLDEN_INPUTS = "golden_inputs.json"
GOLDEN_PREDICTIONS = "golden_predictions.json"


def save_model(
    model: object,
    records: RecordStore,
    created_ms: int,
    *,
    input_example: Any = None,
    flavor: str | None = None,
    environment_id: str | None = None,
    allow_unrestricted_pickle: bool = False,
) -> tuple[str, ModelRecord]:
    """Store ``model`` and return ``(model id, record)``.

    ``allow_unrestricted_pickle`` lets a flavor fall back to a plain pickle (see flavors.base).

    With an input example, the signature is inferred and up to 20 rows are kept with the
    predictions they gave now, so a server can check it reproduces them before it is ready.
    """
    chosen = flavor_named(flavor) if flavor else flavor_for(model)
    with tempfile.TemporaryDirectory(prefix="parity-model-") as tmp:
        directory = Path(tmp)
        unrestricted = allow_unrestricted_pickle
        loader = chosen.save(model, directory, allow_unrestricted_pickle=unrestricted)
        signature = None
        golden_inputs = golden_predictions = None
        if input_example is not None:
            rows = head(input_example)
            # ONNX graphs and torch modules have no predict(): ask the saved model, which also
            # proves the files load back before anything is recorded.
            predictor: Any = (
                model
                if callable(getattr(model, "predict", None))
                else chosen.load(directory, loader, allow_unrestricted_pickle=unrestricted)
            )
            predictions = predictor.predict(rows)
            signature = infer_signature(rows, predictions, model)
            (directory / GOLDEN_INPUTS).write_text(json.dumps(to_rows(rows), default=str))
            (directory / GOLDEN_PREDICTIONS).write_text(
                json.dumps(predictions_to_json(predictions), default=str)
            )
            golden_inputs, golden_predictions = GOLDEN_INPUTS, GOLDEN_PREDICTIONS
        requirements = distributions_for_modules(chosen.referenced_modules(directory, loader))
        files = tuple(
            ArtifactFile(
                path=path.relative_to(directory).as_posix(),
                digest=records.objects.put_file(path),
                size=path.stat().st_size,
            )
            for path in sorted(directory.rglob("*"))
            if path.is_file()
        )
    record = ModelRecord(
        flavor=chosen.name,
        loader=loader,
        files=files,
        signature=signature,
        environment_id=environment_id,
        requirements=requirements,
        golden_inputs=golden_inputs,
        golden_predictions=golden_predictions,
    )
    model_id = records.put(record.to_record(), created_ms, label=chosen.name)
    return model_id, record
