"""What a run needs to be started again, read from this process: the folder it starts in, the
numerics variables it sees, the files it has read, and the seeds Parity sets on request."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Sequence
from pathlib import Path

from parity.core.environment import NUMERICS_VARIABLES
from parity.core.launch import Launch
from parity.tracking.code_state import git_root


def launch_here(cwd: Path) -> Launch:
    """Where a run starting now starts: ``cwd`` relative to its git root, and the allow-listed
    numerics variables of this process (no other variable is read)."""
    variables = {name: os.environ[name] for name in NUMERICS_VARIABLES if name in os.environ}
    root = git_root(cwd)
    if root is None:
        return Launch(str(cwd.resolve()), in_repository=False, variables=variables)
    relative = cwd.resolve().relative_to(root).as_posix()
    return Launch(relative or ".", in_repository=True, variables=variables)


def files_named(command: Sequence[str], cwd: Path) -> list[Path]:
    """The arguments of ``command`` that name existing files (``train.py``, ``conf.yaml``)."""
    found = []
    for argument in command[1:]:
        candidate = cwd / argument  # an absolute argument replaces cwd
        try:
            if candidate.is_file():
                found.append(candidate)
        except (OSError, ValueError):  # a name too long, or with a NUL: not a file
            continue
    return found


# The modules found inside the repository by the last files_read_here, and what that depended on:
# a process starting many runs asks each time, and its modules seldom change between two runs
# (sys.modules grows; its size and last name tell, as a module removed and another added
# changes the last name).
_modules_before: tuple[tuple[object, ...], list[Path]] | None = None


def files_read_here(cwd: Path) -> list[Path]:
    """The files this process has read as code: its script, its arguments that are files, and
    the modules it imported from inside its git repository (not installed packages)."""
    root = git_root(cwd)
    if root is None:
        return []
    found = files_named(["", *sys.argv[1:]], cwd)
    if sys.argv and sys.argv[0] not in ("", "-c", "-m"):
        found.append(Path(sys.argv[0]).absolute())
    return found + _modules_inside(root, cwd)


def _modules_inside(root: Path, cwd: Path) -> list[Path]:
    global _modules_before
    modules = sys.modules
    key = (str(root), str(cwd), len(modules), next(reversed(modules), None))
    before = _modules_before
    if before is not None and before[0] == key:
        return list(before[1])
    prefix = str(root) + os.sep
    here = f"{cwd}{os.sep}"
    found = []
    # Plain string tests: a process has thousands of modules, and a run must start in ms.
    for module in list(modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        absolute = path if path.startswith(os.sep) else here + path
        if absolute.startswith(prefix):
            found.append(Path(absolute))
    _modules_before = (key, found)
    return list(found)


def seed_libraries(seed: int) -> dict[str, str]:
    """Seed ``random`` and, when already imported, NumPy's global generator and PyTorch.

    Only libraries the script has imported are seeded: importing one here would slow every run.
    """
    random.seed(seed)
    seeded = {"random": str(seed)}
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed % 2**32)
        seeded["numpy"] = str(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
        seeded["torch"] = str(seed)
    return seeded
