"""A pytest plugin: the fast test set must still import every module of Parity.

``make test`` runs the tests not marked slow on both cores; with ``PARITY_TEST_EVERY_MODULE=1``
(the Makefile sets it) the run fails when some module of ``src/parity`` was imported by no test
process, so marking a test slow can never leave a module untested by the default command.
Workers report what they imported through pytest-xdist's ``workeroutput``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

import parity

_KEY = "parity_modules"
_seen: set[str] = set()


def _imported() -> set[str]:
    return {name for name in sys.modules if name == "parity" or name.startswith("parity.")}


def every_module() -> set[str]:
    """Every importable module under src/parity, by dotted name."""
    root = Path(parity.__file__).parent
    names = set()
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the names to the controller
        workeroutput[_KEY] = sorted(_imported())
        return
    if os.environ.get("PARITY_TEST_EVERY_MODULE") != "1" or exitstatus != 0:
        return
    # Migrations are loaded by Alembic from their files, not imported by name; ``python -m
    # parity`` runs parity.__main__ in the subprocesses of the CLI tests.
    missing = sorted(
        name
        for name in every_module() - _seen - _imported()
        if not name.startswith("parity.store.meta.migrations") and name != "parity.__main__"
    )
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("modules no test imported: " + ", ".join(missing), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    _seen.update(getattr(node, "workeroutput", {}).get(_KEY, ()))
