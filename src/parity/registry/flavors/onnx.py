"""ONNX models: the serialized graph, run with onnxruntime (imported only when used)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from parity.core.errors import UsageError

ONNX_FILE = "model.onnx"


class OnnxModel:
    """A thin predictor over an onnxruntime session: ``predict(rows)`` → the first output."""

    def __init__(self, path: Path) -> None:
        try:
            import onnxruntime  # lazy: only ONNX models import it
        except ImportError as exc:
            raise UsageError(
                "loading an ONNX model needs onnxruntime", hint="pip install onnxruntime"
            ) from exc
        self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def predict(self, rows: Any) -> Any:
        import numpy as np  # lazy: numpy loads only for array inputs and outputs

        values = np.asarray(rows, dtype=np.float32)
        return self.session.run(None, {self.input_name: values})[0]


class OnnxFlavor:
    name = "onnx"

    def accepts(self, model: object) -> bool:
        return type(model).__module__.startswith("onnx") and hasattr(model, "SerializeToString")

    def save(
        self, model: object, directory: Path, *, allow_unrestricted_pickle: bool = False
    ) -> dict[str, Any]:
        (directory / ONNX_FILE).write_bytes(model.SerializeToString())  # type: ignore[attr-defined]
        return {"format": "onnx", "file": ONNX_FILE}

    def load(
        self, directory: Path, loader: Mapping[str, Any], *, allow_unrestricted_pickle: bool = False
    ) -> Any:
        return OnnxModel(directory / str(loader["file"]))

    def referenced_modules(self, directory: Path, loader: Mapping[str, Any]) -> set[str]:
        return {"onnxruntime", "numpy"}
