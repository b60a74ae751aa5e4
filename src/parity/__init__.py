"""Parity keeps machine-learning development and production in parity.

It versions the environment, data, code, runs and models a model depends on, and links them.
"""

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

__version__ = "0.1.0"


def load_model(reference: str, verify_env: bool = True) -> object:
    """Load a registered model (``NAME@ALIAS`` or ``NAME/VERSION``), verified, in this workspace.

    >>> model = parity.load_model("churn@production")   # doctest: +SKIP

    See ``parity.api.models.load_model``.
    """
    from parity.api.models import load_model as load

    return load(reference, verify_env=verify_env)


__all__ = [
    "CheckFailed",
    "ConflictError",
    "CorruptObject",
    "EnvironmentMismatch",
    "NotFoundError",
    "ParityError",
    "StorageError",
    "UsageError",
    "__version__",
    "load_model",
]
