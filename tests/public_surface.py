"""Render Parity's public Python API (names, signatures, first docstring lines) as Markdown.

``docs/api.md`` is this rendering; ``tests/test_public_api.py`` fails when they differ, so a
change to the public surface is always a visible change to that file. Regenerate it with
``python -m tests.public_surface > docs/api.md``.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
import re
import types

HEADER = """# The Python API

Generated from the code by `python -m tests.public_surface > docs/api.md`; a test fails when
it is stale. `parity.api` is the one door: one module per capability, in the words the CLI
uses, each function taking `workspace=None` last (None: the workspace around the current
folder, opened and closed by the call). `import parity` gives the most used names directly.
See docs/architecture.md for the layers behind it.
"""


def public_modules() -> list[str]:
    import parity.api

    names = ["parity", "parity.env"]
    for info in pkgutil.iter_modules(parity.api.__path__):
        if not info.name.startswith("_"):
            names.append(f"parity.api.{info.name}")
    return names


def _summary(obj: object) -> str:
    # A class's own docstring only: an inherited one (IntEnum's) changes with Python's version.
    own = vars(obj).get("__doc__") if inspect.isclass(obj) else inspect.getdoc(obj)
    doc = inspect.cleandoc(own) if isinstance(own, str) else ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _signature(obj: object) -> str:
    try:
        text = str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    # A default that is a function prints with its address: keep the name only.
    return re.sub(r"<function (\S+) at 0x[0-9a-f]+>", r"\1", text)


def _describe(qualified: str, obj: object) -> list[str]:
    if isinstance(obj, types.ModuleType):
        return [f"- `{qualified}`: module `{obj.__name__}`"]
    if inspect.isclass(obj) and issubclass(obj, enum.Enum):
        members = ", ".join(member.name for member in obj)
        return [f"- enum `{qualified}` ({members}): {_summary(obj)}"]
    if inspect.isclass(obj):
        lines = [f"- class `{qualified}{_signature(obj)}`: {_summary(obj)}"]
        for name, member in sorted(vars(obj).items()):
            if name.startswith("_") or (not callable(member) and not isinstance(member, property)):
                continue
            target = member.fget if isinstance(member, property) else member
            kind = "property" if isinstance(member, property) else f"{_signature(target)}"
            lines.append(f"  - `.{name}` {kind}: {_summary(target)}".replace(" :", ":"))
        return lines
    return [f"- `{qualified}{_signature(obj)}`: {_summary(obj)}"]


def render() -> str:
    out = [HEADER]
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        exported = getattr(module, "__all__", None)
        if exported is None:
            raise AssertionError(f"{module_name} has no __all__")
        out.append(f"\n## `{module_name}`\n")
        if _summary(module):
            out.append(_summary(module) + "\n")
        for name in sorted(exported):
            out.extend(_describe(f"{module_name}.{name}", getattr(module, name)))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
