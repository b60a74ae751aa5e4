"""Validate an object against KServe's InferenceService CRD schema, offline and strictly.

The API server prunes fields a structural schema does not list; here an unlisted field is an
error instead (``additionalProperties: false`` wherever the schema lists ``properties`` and
neither keeps unknown fields nor says what other keys hold), so a misspelt field fails a test
rather than vanishing on a cluster.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA = Path(__file__).parent / "schemas" / "kserve-inferenceservice-v1beta1.json.gz"


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        strict = {key: _strict(value) for key, value in node.items()}
        if (
            "properties" in strict
            and "additionalProperties" not in strict
            and not strict.get("x-kubernetes-preserve-unknown-fields")
        ):
            strict["additionalProperties"] = False
        return strict
    if isinstance(node, list):
        return [_strict(item) for item in node]
    return node


def inference_service_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(gzip.decompress(SCHEMA.read_bytes()))
    return _strict(schema)


def validation_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(inference_service_schema())
    return sorted(
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    )
