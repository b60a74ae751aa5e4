"""Parity keeps machine-learning development and production in parity.

It versions the environment, data, code, runs and models a model depends on, and links them.
"""

from __future__ import annotations

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
    from collections.abc import Mapping

    from parity.api.tracking import Run
    from parity.workspace import Workspace

__version__ = "0.1.0"


def load_model(
    reference: str, verify_env: bool = True, *, allow_unrestricted_pickle: bool = False
) -> object:
    """Load a model (``NAME@ALIAS``, ``NAME/VERSION`` or a run's ``RUN:PATH``), verified.

    >>> model = parity.load_model("churn@production")   # doctest: +SKIP

    See ``parity.api.models.load_model``.
    """
    from parity.api.models import load_model as load

    return load(
        reference, verify_env=verify_env, allow_unrestricted_pickle=allow_unrestricted_pickle
    )


def start_run(
    experiment: str | None = None,
    name: str | None = None,
    params: Mapping[str, object] | None = None,
    tags: Mapping[str, object] | None = None,
    parent: str | None = None,
    workspace: Workspace | None = None,
) -> Run:
    """Start a tracked run in this workspace; use it as a context manager.

    >>> with parity.start_run(experiment="churn", params={"model": "rf"}) as run:  # doctest: +SKIP
    ...     run.use_data("data/train.csv")
    ...     run.log_metric("accuracy", 0.93)
    ...     run.log_model(model, "model")

    The code state, environment, command line, host and user are captured at start; metrics are
    buffered and written in batches. See ``parity.api.tracking.start_run``.
    """
    from parity.api.tracking import start_run as start

    return start(experiment, name, params, tags, parent, workspace)


def __getattr__(name: str) -> Any:
    # ``Run`` is importable from here without loading SQLAlchemy for every ``import parity``.
    if name == "Run":
        from parity.api.tracking import Run

        return Run
    # ``parity.env.capture()`` after a plain ``import parity``, without paying for it up front.
    if name == "env":
        import importlib

        return importlib.import_module("parity.env")
    raise AttributeError(f"module 'parity' has no attribute {name!r}")


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
    "load_model",
    "start_run",
]
