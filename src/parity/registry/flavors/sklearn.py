"""scikit-learn models: skops format where it round-trips, pickle otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from parity.registry.flavors import pickled

SKOPS_FILE = "model.skops"


class SklearnFlavor:
    name = "sklearn"

    def accepts(self, model: object) -> bool:
        module = type(model).__module__
        return module.split(".", 1)[0] == "sklearn" or any(
            c.__module__.startswith("sklearn.") for c in type(model).__mro__[1:]
        )

    def save(self, model: object, directory: Path) -> dict[str, Any]:
        try:
            import skops.io as sio

            path = directory / SKOPS_FILE
            sio.dump(model, path)
            # The types skops would not trust by default, recorded now so that a load of these
            # exact (hash-verified) bytes can trust exactly them and nothing else.
            trusted = sorted(sio.get_untrusted_types(file=path))
            sio.load(path, trusted=trusted)
        except Exception:  # skops cannot express every estimator: fall back to pickle
            (directory / SKOPS_FILE).unlink(missing_ok=True)
            pickled.dump(model, directory / pickled.PICKLE_FILE)
            return {"format": "pickle", "file": pickled.PICKLE_FILE}
        return {"format": "skops", "file": SKOPS_FILE, "trusted_types": trusted}

    def load(self, directory: Path, loader: Mapping[str, Any]) -> Any:
        path = directory / str(loader["file"])
        if loader.get("format") == "skops":
            import skops.io as sio

            return sio.load(path, trusted=list(loader.get("trusted_types", ())))
        return pickled.load(path)

    def referenced_modules(self, directory: Path, loader: Mapping[str, Any]) -> set[str]:
        path = directory / str(loader["file"])
        if loader.get("format") != "skops":
            return pickled.modules_in_pickle(path)
        import skops.io as sio

        types = sio.get_untrusted_types(file=path) + list(loader.get("trusted_types", ()))
        # skops trusts sklearn and numpy types by default; the model needs them all the same.
        return {t.rsplit(".", 1)[0] for t in types} | {"sklearn", "numpy", "scipy"}
