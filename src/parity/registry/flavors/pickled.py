"""Pickle, for models no safer format handles; loaded only after the hash check.

The modules a pickle needs are read from its GLOBAL / STACK_GLOBAL opcodes without unpickling.
"""

from __future__ import annotations

import pickle
import pickletools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from parity.registry.flavors.base import top_level

PICKLE_FILE = "model.pkl"


def dump(model: object, path: Path) -> None:
    with open(path, "wb") as handle:
        pickle.dump(model, handle, protocol=5)


def load(path: Path) -> Any:
    with open(path, "rb") as handle:
        return pickle.load(handle)  # noqa: S301 - only after every byte matched its digest


class _Inert:
    """Stands in for every class a pickle names, so reading it runs none of their code."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _Inert:
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> _Inert:
        return _Inert()

    def __setstate__(self, state: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return _Inert()


class _ModuleRecorder(pickle.Unpickler):
    def __init__(self, handle: Any) -> None:
        super().__init__(handle)
        self.modules: set[str] = set()

    def find_class(self, module: str, name: str) -> Any:
        self.modules.add(module)
        return _Inert


def modules_in_pickle(path: Path) -> set[str]:
    """Modules named by a pickle's global references, found without running them."""
    with open(path, "rb") as handle:
        recorder = _ModuleRecorder(handle)
        try:
            recorder.load()
        except Exception:
            # An exotic pickle the stand-ins cannot walk: fall back to the plain GLOBAL opcodes.
            handle.seek(0)
            for opcode, argument, _ in pickletools.genops(handle):
                if opcode.name == "GLOBAL" and isinstance(argument, str):
                    recorder.modules.add(argument.split(" ", 1)[0])
    return {m for m in recorder.modules if top_level(m) not in ("builtins", "copyreg")}


class PickleFlavor:
    """The generic Python-function flavor: any object with ``predict``."""

    name = "pyfunc"

    def accepts(self, model: object) -> bool:
        return callable(getattr(model, "predict", None))

    def save(self, model: object, directory: Path) -> dict[str, Any]:
        dump(model, directory / PICKLE_FILE)
        return {"format": "pickle", "file": PICKLE_FILE}

    def load(self, directory: Path, loader: Mapping[str, Any]) -> Any:
        return load(directory / str(loader["file"]))

    def referenced_modules(self, directory: Path, loader: Mapping[str, Any]) -> set[str]:
        return modules_in_pickle(directory / str(loader["file"]))
