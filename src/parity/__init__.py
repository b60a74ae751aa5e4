"""Parity keeps machine-learning development and production in parity.

It versions the environment, data, code, runs and models a model depends on, and links them.

>>> import parity
>>> with parity.start_run(experiment="churn", params={"model": "rf"}) as run:  # doctest: +SKIP
...     run.log_metric("accuracy", 0.93)
...     run.log_model(model, "model", input_example=features)
>>> parity.models.register(f"{run.id}:model", "churn")                         # doctest: +SKIP
>>> model = parity.load_model("churn/1")                                       # doctest: +SKIP

Every capability has one entry in ``parity.api`` (``runs``, ``models``, ``data``, ...); the
most used are here: ``start_run`` is ``parity.api.runs.start``, ``load_model`` is
``parity.api.models.load``, ``models`` and ``runs`` are those modules, ``env`` is ``parity.env``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from parity.core.errors import (
    CheckFailed,
    ConflictError,
    CorruptObject,
    EnvironmentMismatch,
    NotFoundError,
    ParityError,
    StorageError,
    UsageError,
)

if TYPE_CHECKING:
    from parity import env as env
    from parity.api import models as models
    from parity.api import runs as runs
    from parity.api.models import load as load_model
    from parity.api.runs import Run as Run
    from parity.api.runs import start as start_run

__version__ = "0.1.0"

# Public names that live in heavier modules, loaded on first use so ``import parity`` stays cheap
# (no SQLAlchemy): name -> (module, attribute; None for the module itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    "Run": ("parity.api.runs", "Run"),
    "start_run": ("parity.api.runs", "start"),
    "load_model": ("parity.api.models", "load"),
    "models": ("parity.api.models", None),
    "runs": ("parity.api.runs", None),
    "env": ("parity.env", None),
    "api": ("parity.api", None),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'parity' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attribute is None else getattr(module, attribute)


__all__ = [
    "CheckFailed",
    "ConflictError",
    "CorruptObject",
    "EnvironmentMismatch",
    "NotFoundError",
    "ParityError",
    "Run",
    "StorageError",
    "UsageError",
    "__version__",
    "api",
    "load_model",
    "models",
    "runs",
    "start_run",
]
