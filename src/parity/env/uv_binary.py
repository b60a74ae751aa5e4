"""Where Parity finds uv, which resolves export hashes and builds restored venvs.

uv is the ``uv`` extra, not a base dependency (a 17 MB binary only export and restore run). The
copy installed with that extra wins, so its version is the one Parity was locked with; otherwise
a uv beside this interpreter (the venv's own) or on PATH does the job.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from parity.core.errors import UsageError

UV_EXTRA = "parity-ml[uv]"
_VERSION = re.compile(r"^uv (\d+\.\d+\.\d+)")


def uv_bin() -> str:
    """The uv executable to run; UsageError with the install hint when there is none."""
    try:
        from uv import find_uv_bin  # lazy: an optional extra, needed by export and restore only

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        pass  # not installed with the extra: look where a venv or the user keeps one
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        raise UsageError(
            "exporting or restoring an environment needs uv, which is not installed",
            hint=f"pip install '{UV_EXTRA}', or put uv on PATH",
        )
    return found


def uv_version() -> str | None:
    """The version of the uv Parity runs (for a Dockerfile's uv image tag), if it can be told."""
    try:
        return version("uv")
    except PackageNotFoundError:
        pass
    try:
        result = subprocess.run(
            [uv_bin(), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (UsageError, OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.match(result.stdout)
    return match.group(1) if match else None
