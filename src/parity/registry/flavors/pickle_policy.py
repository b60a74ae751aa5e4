"""Which globals a restricted pickle may call: decided by this loader, never by the file's record.

A model record lists the globals its pickle names, but whoever can register a model writes that
list, so it can only narrow what loads. What may load at all is fixed here: classes from the
numerical libraries a scikit-learn model is made of, NumPy ufuncs, the few functions those
libraries' own pickles call to rebuild arrays and random states, and inert builtins. Functions
in general are refused (``numpy.load`` unpickles, ``numpy.testing`` runs strings), as are the
parts of those libraries that read or write files. A model that needs anything else is loaded
with ``allow_unrestricted_pickle=True`` by someone who trusts whoever saved it.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

TRUSTED_PACKAGES = frozenset({"sklearn", "numpy", "scipy"})

# Submodules of the trusted packages that touch files, fetch data or run code given as text.
_UNTRUSTED_SEGMENTS = frozenset(
    {
        "testing",
        "_testing",
        "tests",
        "conftest",
        "io",
        "datasets",
        "externals",
        "f2py",
        "distutils",
        "_pytesttester",
        "ctypeslib",
        "npyio",
        "_npyio_impl",
        "_datasource",
        "format",
        "_format_impl",
        "_utils_impl",
    }
)
# The scikit-learn modules whose plain functions a model may hold (score and kernel functions).
_FUNCTION_MODULES = ("sklearn.metrics", "sklearn.feature_selection")
# Classes in trusted modules whose constructors open, map or create files.
_UNTRUSTED_NAMES = frozenset({"memmap", "DataSource", "NpzFile", "netcdf_file"})

# What the trusted libraries' own pickles call to rebuild arrays, scalars and random states.
_REBUILDERS = frozenset(
    {
        "numpy.core.multiarray:_reconstruct",
        "numpy._core.multiarray:_reconstruct",
        "numpy.core.multiarray:scalar",
        "numpy._core.multiarray:scalar",
        "numpy.core.numeric:_frombuffer",
        "numpy._core.numeric:_frombuffer",
        "numpy.random._pickle:__randomstate_ctor",
        "numpy.random._pickle:__bit_generator_ctor",
        "numpy.random._pickle:__generator_ctor",
        "copyreg:_reconstructor",
    }
)
# Cython writes one per extension class: it checks the class's layout checksum, then
# creates an empty instance and restores its fields, calling nothing else.
_CYTHON_REBUILDER = "__pyx_unpickle_"
# scikit-learn's own: ``newObj(cls)`` is ``cls.__new__(cls)`` for its tree and metric classes.
_SKLEARN_REBUILDERS = frozenset(
    {
        ("sklearn.metrics._dist_metrics", "newObj"),
        ("sklearn.neighbors._kd_tree", "newObj"),
        ("sklearn.neighbors._ball_tree", "newObj"),
    }
)
_INERT_BUILTINS = frozenset(
    f"builtins:{name}"
    for name in (
        "object",
        "bool",
        "int",
        "float",
        "complex",
        "str",
        "bytes",
        "bytearray",
        "list",
        "tuple",
        "dict",
        "set",
        "frozenset",
        "slice",
        "range",
    )
) | frozenset({"collections:OrderedDict", "functools:partial"})


def resolve(module: str, name: str) -> Any | None:
    """The object ``module:name`` stands for if this loader allows it, else None.

    Names are looked up one attribute deep only, so a dotted name cannot walk from an allowed
    module to whatever that module imported."""
    key = f"{module}:{name}"
    if key in _REBUILDERS or key in _INERT_BUILTINS:
        return getattr(importlib.import_module(module), name)
    if "." in name or name in _UNTRUSTED_NAMES or not _trusted_module(module):
        return None
    if name.startswith("__") and not name.startswith(_CYTHON_REBUILDER):
        return None
    found = getattr(importlib.import_module(module), name, None)
    if found is None:
        return None
    if name.startswith(_CYTHON_REBUILDER) or (module, name) in _SKLEARN_REBUILDERS:
        return found
    if isinstance(found, type) and _trusted_module(getattr(found, "__module__", "") or ""):
        return found
    if _is_ufunc(found) or _is_pure_function(found):
        return found
    return None


def _trusted_module(module: str) -> bool:
    parts = module.split(".")
    return parts[0] in TRUSTED_PACKAGES and not _UNTRUSTED_SEGMENTS.intersection(parts[1:])


def _is_pure_function(found: object) -> bool:
    home = getattr(found, "__module__", None) or ""
    return (
        inspect.isfunction(found)
        and _trusted_module(home)
        and any(home == m or home.startswith(m + ".") for m in _FUNCTION_MODULES)
    )


def _is_ufunc(found: object) -> bool:
    # A ufunc computes on arrays and nothing else; numpy is already imported by the lookup.
    import numpy as np  # lazy: only a pickle that names a ufunc gets here

    return isinstance(found, np.ufunc)
