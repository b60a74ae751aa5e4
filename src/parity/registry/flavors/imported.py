"""Models brought in from another tool that Parity cannot load: their files kept as they were.

An imported MLflow model whose flavor Parity has no loader for (or whose pickle names what the
restricted loader refuses) keeps every file, its signature and declared environment, so it can
be listed, verified byte for byte, compared and exported again; loading it says why it cannot.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from parity.core.errors import UsageError


class ImportedFlavor:
    """Opaque: never chosen to save a live object, and refusing to load, with the reason."""

    name = "mlflow"

    def accepts(self, model: object) -> bool:
        return False

    def save(
        self, model: object, directory: Path, *, allow_unrestricted_pickle: bool = False
    ) -> dict[str, Any]:
        raise UsageError(
            "the mlflow flavor only holds models imported from MLflow",
            hint="save a live model with its own flavor (sklearn, onnx, pytorch, pyfunc)",
        )

    def load(
        self, directory: Path, loader: Mapping[str, Any], *, allow_unrestricted_pickle: bool = False
    ) -> Any:
        flavors = ", ".join(loader.get("flavors", ())) or "none"
        raise UsageError(
            f"this model was imported from MLflow (flavors: {flavors}) and Parity cannot load it: "
            f"{loader.get('reason', 'no loader for its flavor')}",
            hint="its files are kept unchanged: export it (parity export mlflow) or load them "
            "with mlflow.pyfunc in an environment that has MLflow",
        )

    def referenced_modules(self, directory: Path, loader: Mapping[str, Any]) -> set[str]:
        return set()
