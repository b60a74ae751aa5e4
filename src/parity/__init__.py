"""Parity keeps machine-learning development and production in parity.

It versions the environment, data, code, runs and models a model depends on, and links them.
"""

from parity.core.errors import (
    CheckFailed,
    ConflictError,
    CorruptObject,
    NotFoundError,
    ParityError,
    StorageError,
    UsageError,
)

__version__ = "0.1.0"

__all__ = [
    "CheckFailed",
    "ConflictError",
    "CorruptObject",
    "NotFoundError",
    "ParityError",
    "StorageError",
    "UsageError",
    "__version__",
]
