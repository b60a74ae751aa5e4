"""scikit-learn models: a pickle whose globals are recorded when saved and enforced on load.

Saving lists every class and function the pickle refers to (read without running any of them);
loading refuses a file that names anything else, on top of the digest check every model file
gets. This replaced skops: its loader imports every scikit-learn estimator to build its trusted
types (about 0.5 s of a server's start-up), where this one imports only the modules the model
names. Models saved in the skops format before still load, if skops is installed.

A pickle whose globals cannot be listed is refused, unless the caller asks for it to be kept as
a plain (unrestricted) pickle; loading one then needs the same explicit request, and both are
logged as warnings.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from parity.core.errors import UsageError
from parity.registry.flavors import pickle_policy, pickled

RESTRICTED = "restricted-pickle"
# The fallback for a pickle whose globals cannot be listed: saved and loaded only on request.
UNRESTRICTED = "pickle"
SKOPS = "skops"
logger = logging.getLogger(__name__)


class SklearnFlavor:
    name = "sklearn"

    def accepts(self, model: object) -> bool:
        module = type(model).__module__
        return module.split(".", 1)[0] == "sklearn" or any(
            c.__module__.startswith("sklearn.") for c in type(model).__mro__[1:]
        )

    def save(
        self, model: object, directory: Path, *, allow_unrestricted_pickle: bool = False
    ) -> dict[str, Any]:
        path = directory / pickled.PICKLE_FILE
        pickled.dump(model, path)
        try:
            names = pickled.globals_in_pickle(path)
        except Exception as exc:  # a stream the inert walk cannot follow (any error it raises)
            reason = f"cannot list what its pickle refers to ({type(exc).__name__}: {exc})"
            return self._unrestricted(model, reason, allow_unrestricted_pickle, exc)
        refused = sorted(g for g in names if pickle_policy.resolve(*g.split(":", 1)) is None)
        if refused:
            shown = ", ".join(g.replace(":", ".") for g in refused[:3])
            reason = f"its pickle refers to {shown}, which a restricted pickle may not call"
            return self._unrestricted(model, reason, allow_unrestricted_pickle, None)
        return {"format": RESTRICTED, "file": pickled.PICKLE_FILE, "globals": sorted(names)}

    def _unrestricted(
        self, model: object, reason: str, allowed: bool, cause: Exception | None
    ) -> dict[str, Any]:
        if not allowed:
            raise UsageError(
                f"this {type(model).__name__} cannot be stored as a restricted pickle: {reason}",
                hint="pass allow_unrestricted_pickle=True to store it as a plain pickle, "
                "which then loads only with the same option",
            ) from cause
        logger.warning(
            "saving a %s as an unrestricted pickle (opted in): %s", type(model).__name__, reason
        )
        return {"format": UNRESTRICTED, "file": pickled.PICKLE_FILE, "reason": reason}

    def load(
        self, directory: Path, loader: Mapping[str, Any], *, allow_unrestricted_pickle: bool = False
    ) -> Any:
        path = directory / str(loader["file"])
        kind = loader.get("format")
        if kind == RESTRICTED:
            return pickled.load_restricted(path, frozenset(loader.get("globals", ())))
        if kind == SKOPS:
            return _skops().load(path, trusted=list(loader.get("trusted_types", ())))
        if kind != UNRESTRICTED:
            raise UsageError(
                f"this scikit-learn model is stored in format {kind!r}, unknown to this Parity",
                hint="upgrade Parity: pip install -U parity-ml",
            )
        reason = loader.get("reason", "saved by an earlier Parity")
        if not allow_unrestricted_pickle:
            raise UsageError(
                f"this scikit-learn model is an unrestricted pickle ({reason}): loading it "
                "may run any code it names",
                hint="if you trust whoever saved it, load it with allow_unrestricted_pickle=True",
            )
        logger.warning("loading an unrestricted scikit-learn pickle (opted in): %s", reason)
        return pickled.load(path)

    def referenced_modules(self, directory: Path, loader: Mapping[str, Any]) -> set[str]:
        path = directory / str(loader["file"])
        kind = loader.get("format")
        if kind == RESTRICTED:
            modules = {str(g).split(":", 1)[0] for g in loader.get("globals", ())}
            # scikit-learn always needs numpy and scipy, whether or not the pickle names them.
            named = {m for m in modules if m.split(".", 1)[0] not in ("builtins", "copyreg")}
            return named | {"sklearn", "numpy", "scipy"}
        if kind != SKOPS:
            return pickled.modules_in_pickle(path)
        types = _skops().get_untrusted_types(file=path) + list(loader.get("trusted_types", ()))
        # skops trusts sklearn and numpy types by default; the model needs them all the same.
        return {t.rsplit(".", 1)[0] for t in types} | {"sklearn", "numpy", "scipy"}


def _skops() -> Any:
    try:
        import skops.io as sio  # lazy: only models saved in the old skops format need skops
    except ImportError as exc:
        raise UsageError(
            "this model was saved in the skops format, and skops is not installed",
            hint="pip install skops, or save the model again with this Parity",
        ) from exc
    return sio
