"""An MLmodel file for a Parity model, so that MLflow's loaders open what was exported.

Parity's scikit-learn flavor keeps a plain pickle (protocol 5) that MLflow's ``sklearn`` flavor
reads with ``serialization_format: pickle``; other flavors are exported as their files only,
with no MLmodel, since MLflow would not know how to load them.
"""

from __future__ import annotations

from typing import Any

import yaml

from parity.core.model import ModelRecord

# The formats of Parity's sklearn flavor that are a pickle MLflow's loader reads as it is.
PICKLE_FORMATS = ("restricted-pickle", "pickle")


def mlmodel_text(record: ModelRecord, artifact_path: str, run_id: str) -> str | None:
    """The MLmodel YAML for ``record``, or None when MLflow has no flavor that loads it."""
    if record.flavor != "sklearn" or record.loader.get("format") not in PICKLE_FORMATS:
        return None
    file = str(record.loader.get("file", "model.pkl"))
    sklearn_version = record.requirements.get("scikit-learn")
    document: dict[str, Any] = {
        "artifact_path": artifact_path,
        "run_id": run_id,
        "flavors": {
            "python_function": {
                "loader_module": "mlflow.sklearn",
                "model_path": file,
                "predict_fn": "predict",
            },
            "sklearn": {
                "pickled_model": file,
                "serialization_format": "pickle",
                "code": None,
                **({"sklearn_version": sklearn_version} if sklearn_version else {}),
            },
        },
    }
    return yaml.safe_dump(document, sort_keys=False)


def requirements_text(record: ModelRecord) -> str:
    """requirements.txt with each distribution the model needs, pinned as it was saved."""
    return "".join(f"{name}=={version}\n" for name, version in sorted(record.requirements.items()))
