"""The one public Python API: one module per capability, in the words the CLI uses.

>>> import parity
>>> parity.api.data.status()                          # doctest: +SKIP
>>> parity.api.models.alias("churn/3", alias="production", reason="better recall")  # doctest: +SKIP

Each module loads on first use, so ``import parity`` stays cheap. docs/api.md lists every name.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = [
    "accounts",
    "data",
    "deploy",
    "environments",
    "gate",
    "infra",
    "migrate",
    "models",
    "monitor",
    "objects",
    "remotes",
    "repro",
    "runs",
    "serving",
    "workspace",
]


def __getattr__(name: str) -> ModuleType:
    # ``parity.api.data`` after a plain ``import parity``, without importing every door up front.
    if name not in __all__:
        raise AttributeError(f"module 'parity.api' has no attribute {name!r}")
    return importlib.import_module(f"parity.api.{name}")
