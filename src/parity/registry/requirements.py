"""Map the modules a model references to the distributions (and their dependencies) it needs."""

from __future__ import annotations

import importlib.metadata as metadata
import sys
from collections.abc import Iterable, Mapping
from types import ModuleType

from packaging.markers import UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name


def _imported_by_local_code(modules: Iterable[str], providers: Mapping[str, list[str]]) -> set[str]:
    """Top-level packages that the user's own modules (which no distribution provides) use.

    A pickled model of a class in ``train.py`` names only ``train``; what ``train`` imported
    (numpy, say) is what the model needs at predict time, so look one level into it.
    """
    found: set[str] = set()
    for name in modules:
        top = name.split(".", 1)[0]
        if top in providers or top in sys.stdlib_module_names or name not in sys.modules:
            continue
        for value in vars(sys.modules[name]).values():
            owner = (
                value.__name__
                if isinstance(value, ModuleType)
                else getattr(value, "__module__", None)
            )
            if isinstance(owner, str):
                found.add(owner.split(".", 1)[0])
    return found


def distributions_for_modules(modules: Iterable[str]) -> dict[str, str]:
    """``{distribution: version}`` for the given modules and everything they require.

    Standard-library modules map to nothing. Requirements are followed through their markers as
    they evaluate here, so the result is what this interpreter needed to load the model.
    """
    providers = metadata.packages_distributions()
    tops = {module.split(".", 1)[0] for module in modules}
    tops |= _imported_by_local_code(modules, providers)
    pending = [
        dist
        for top in tops
        if top not in sys.stdlib_module_names
        for dist in providers.get(top, ())
    ]
    found: dict[str, str] = {}
    while pending:
        name = canonicalize_name(pending.pop())
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[name] = dist.version
        for line in dist.requires or ():
            try:
                requirement = Requirement(line)
                if requirement.marker is not None and not requirement.marker.evaluate(
                    {"extra": ""}
                ):
                    continue
            except (InvalidRequirement, UndefinedEnvironmentName):
                continue
            pending.append(requirement.name)
    return dict(sorted(found.items()))
