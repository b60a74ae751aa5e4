"""Pickle, for models no safer format handles; loaded only after the hash check.

The globals a pickle names (the classes and functions it will call) are read without running
any of them: an unpickler whose every global is an inert stand-in walks the whole stream.
A pickle can also be loaded restricted to a given set of globals, so that a file naming
anything its record did not list is refused before any of it runs.
"""

from __future__ import annotations

import pickle
import pickletools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from parity.core.errors import CorruptObject, UsageError
from parity.registry.flavors import pickle_policy
from parity.registry.flavors.base import top_level

PICKLE_FILE = "model.pkl"


class UntrustedPickle(UsageError):
    """A pickle names something this loader does not run without the caller's explicit trust."""


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

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return _Inert()


class _GlobalRecorder(pickle.Unpickler):
    def __init__(self, handle: Any) -> None:
        super().__init__(handle)
        self.globals: set[str] = set()

    def find_class(self, module: str, name: str) -> Any:
        self.globals.add(f"{module}:{name}")
        return _Inert


def globals_in_pickle(path: Path) -> set[str]:
    """The ``module:name`` globals a pickle refers to, found without running any of them.

    Raises ``pickle.UnpicklingError`` (or what the stream raises) if the stand-ins cannot walk
    it; ``modules_in_pickle`` then falls back to the plain GLOBAL opcodes."""
    with open(path, "rb") as handle:
        recorder = _GlobalRecorder(handle)
        recorder.load()
    return recorder.globals


def modules_in_pickle(path: Path) -> set[str]:
    """Modules named by a pickle's global references, found without running them."""
    try:
        modules = {g.split(":", 1)[0] for g in globals_in_pickle(path)}
    except Exception:
        # An exotic pickle the stand-ins cannot walk: fall back to the plain GLOBAL opcodes.
        modules = set()
        with open(path, "rb") as handle:
            for opcode, argument, _ in pickletools.genops(handle):
                if opcode.name == "GLOBAL" and isinstance(argument, str):
                    modules.add(argument.split(" ", 1)[0])
    return {m for m in modules if top_level(m) not in ("builtins", "copyreg")}


class _Restricted(pickle.Unpickler):
    def __init__(self, handle: Any, allowed: frozenset[str], what: str) -> None:
        super().__init__(handle)
        self.allowed = allowed
        self.what = what

    def find_class(self, module: str, name: str) -> Any:
        if f"{module}:{name}" not in self.allowed:
            raise CorruptObject(
                self.what, f"it refers to {module}.{name}, which the model's record does not list"
            )
        found = pickle_policy.resolve(module, name)
        if found is None:
            raise UntrustedPickle(
                f"{self.what} refers to {module}.{name}, which a restricted pickle may not call",
                hint="if you trust whoever saved this model, load it with "
                "allow_unrestricted_pickle=True (parity serve --allow-unrestricted-pickle)",
            )
        return found


def load_restricted(path: Path, allowed: frozenset[str]) -> Any:
    """Unpickle ``path``, refusing (before calling it) any global not in ``allowed`` or not
    allowed by this loader's own policy (``pickle_policy``): the record only narrows it."""
    with open(path, "rb") as handle:
        return _Restricted(handle, allowed, path.name).load()


class PickleFlavor:
    """The generic Python-function flavor: any object with ``predict``, kept as a plain pickle.

    Whoever saves one chose a plain pickle; whoever loads it (a server, a repro, another user)
    did not, and a plain pickle runs any code it names. So loading takes
    ``allow_unrestricted_pickle=True``, the loader's statement that it trusts the saver.
    """

    name = "pyfunc"

    def accepts(self, model: object) -> bool:
        return callable(getattr(model, "predict", None))

    def save(
        self, model: object, directory: Path, *, allow_unrestricted_pickle: bool = False
    ) -> dict[str, Any]:
        dump(model, directory / PICKLE_FILE)
        return {"format": "pickle", "file": PICKLE_FILE}

    def load(
        self, directory: Path, loader: Mapping[str, Any], *, allow_unrestricted_pickle: bool = False
    ) -> Any:
        if not allow_unrestricted_pickle:
            raise UntrustedPickle(
                "this model is a plain pickle (flavor pyfunc): loading it may run any code it "
                "names",
                hint="if you trust whoever saved it, load it with allow_unrestricted_pickle=True "
                "(parity serve --allow-unrestricted-pickle)",
            )
        return load(directory / str(loader["file"]))

    def referenced_modules(self, directory: Path, loader: Mapping[str, Any]) -> set[str]:
        return modules_in_pickle(directory / str(loader["file"]))
