"""Model flavors, chosen by what the model is; frameworks are imported only when used."""

from __future__ import annotations

from parity.core.errors import UsageError
from parity.registry.flavors.base import Flavor
from parity.registry.flavors.imported import ImportedFlavor
from parity.registry.flavors.onnx import OnnxFlavor
from parity.registry.flavors.pickled import PickleFlavor
from parity.registry.flavors.pytorch import PytorchFlavor
from parity.registry.flavors.sklearn import SklearnFlavor

# Most specific first: the generic pickle flavor accepts anything with predict().
# The imported flavor accepts nothing: it only names models brought in from MLflow.
FLAVORS: tuple[Flavor, ...] = (
    SklearnFlavor(),
    OnnxFlavor(),
    PytorchFlavor(),
    PickleFlavor(),
    ImportedFlavor(),
)


def flavor_named(name: str) -> Flavor:
    for flavor in FLAVORS:
        if flavor.name == name:
            return flavor
    raise UsageError(
        f"unknown model flavor {name!r}",
        hint=f"use one of {', '.join(f.name for f in FLAVORS)}",
    )


def flavor_for(model: object) -> Flavor:
    for flavor in FLAVORS:
        if flavor.accepts(model):
            return flavor
    raise UsageError(
        f"cannot save a {type(model).__name__}: Parity has no flavor for it",
        hint="log an object with a predict() method, or pass flavor=",
    )
