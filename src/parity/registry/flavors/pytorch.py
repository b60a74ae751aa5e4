"""PyTorch models: TorchScript when the module scripts, else its state_dict and class path."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from parity.core.errors import UsageError

SCRIPT_FILE = "model.pt"
STATE_FILE = "state_dict.pt"


class TorchModel:
    """A predictor over a loaded torch module: ``predict(rows)`` runs it without gradients on a
    float32 tensor and returns a numpy array; ``module`` is the module itself."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def predict(self, rows: Any) -> Any:
        import numpy as np  # lazy: numpy loads only for array inputs and outputs
        import torch  # lazy: only PyTorch models import it

        with torch.no_grad():
            output = self.module(torch.as_tensor(np.asarray(rows, dtype=np.float32)))
        return output.detach().cpu().numpy()


class PytorchFlavor:
    name = "pytorch"

    def accepts(self, model: object) -> bool:
        return any(
            f"{c.__module__}.{c.__qualname__}" == "torch.nn.modules.module.Module"
            for c in type(model).__mro__
        )

    def save(
        self, model: object, directory: Path, *, allow_unrestricted_pickle: bool = False
    ) -> dict[str, Any]:
        import torch  # lazy: only PyTorch models import it

        try:
            scripted = torch.jit.script(model)
        except Exception:
            cls = type(model)
            torch.save(model.state_dict(), directory / STATE_FILE)  # type: ignore[attr-defined]
            return {
                "format": "state_dict",
                "file": STATE_FILE,
                "class": f"{cls.__module__}:{cls.__qualname__}",
            }
        torch.jit.save(scripted, str(directory / SCRIPT_FILE))
        return {"format": "torchscript", "file": SCRIPT_FILE}

    def load(
        self, directory: Path, loader: Mapping[str, Any], *, allow_unrestricted_pickle: bool = False
    ) -> Any:
        import torch  # lazy: only PyTorch models import it

        path = directory / str(loader["file"])
        if loader.get("format") == "torchscript":
            return TorchModel(torch.jit.load(str(path)))
        module_name, _, qualname = str(loader["class"]).partition(":")
        try:
            cls: Any = importlib.import_module(module_name)
            for part in qualname.split("."):
                cls = getattr(cls, part)
            model = cls()
        except Exception as exc:
            raise UsageError(
                f"cannot rebuild {loader['class']} to load its state_dict: {exc}",
                hint="make the class importable with a no-argument constructor, or use TorchScript",
            ) from exc
        model.load_state_dict(torch.load(path, weights_only=True))
        model.eval()
        return TorchModel(model)

    def referenced_modules(self, directory: Path, loader: Mapping[str, Any]) -> set[str]:
        found = {"torch"}
        if loader.get("format") == "state_dict":
            found.add(str(loader["class"]).split(".", 1)[0].split(":", 1)[0])
        return found
