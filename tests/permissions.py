"""Run ``parity`` so that file modes bind it, also when the tests run as root (CI does).

Root ignores file modes only through two capabilities, CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH. ``setpriv`` (util-linux) starts a process without them in its bounding set,
so a root process then meets ``chmod 000`` and read-only folders as any user does, and the real
code path (a real EACCES from the kernel) is exercised, not a simulation of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

_DROPPED = "-dac_override,-dac_read_search"


def bound_by_modes() -> list[str]:
    """The command prefix that makes a child obey file modes (empty when it already does)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: root would read any file whatever its mode")
    return [setpriv, f"--bounding-set={_DROPPED}", "--"]


def run_parity_bound_by_modes(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``parity ARGS`` in a subprocess that cannot read or write past file modes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    return subprocess.run(
        [*bound_by_modes(), sys.executable, "-m", "parity", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
