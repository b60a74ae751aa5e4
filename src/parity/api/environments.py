"""Fingerprint, compare, verify, export, restore and audit Python environments: ``parity env``.

>>> from parity.api import environments
>>> trained = environments.get("churn@production")            # doctest: +SKIP
>>> environments.verify(trained, python="/srv/venv/bin/python").ok  # doctest: +SKIP
True
>>> print(environments.export(trained, "requirements").main)   # doctest: +SKIP

An environment is named the way a user names it: ``current``, an interpreter's path, a
fingerprint file, an environment id prefix, a model (``NAME@ALIAS``, ``NAME/VERSION``) or a run
id. ``capture``, ``diff`` and ``verify`` are ``parity.env``'s own functions.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.api._environment_refs import resolve_environment
from parity.core.environment import Environment
from parity.core.errors import NotFoundError
from parity.core.file_errors import file_error
from parity.core.refs import RefKind, parse_reference
from parity.env import capture, diff, verify
from parity.env.capture import start_capture
from parity.env.markers import marker_environment
from parity.env.records import describe, store_environment
from parity.workspace import CACHE_DIR, Workspace, find_git_root, now_ms, open_workspace

# Exports, restores, lock checks and audits load packaging, PyYAML and the registry; ``parity env
# capture`` must not wait for them before its probe starts, so they load in the functions below.
if TYPE_CHECKING:
    from parity.api._audit import Subject as Subject
    from parity.api._audit import WorkspaceAudit as WorkspaceAudit
    from parity.env.advisories import AdvisorySet
    from parity.env.audit import AuditResult as AuditResult
    from parity.env.audit import Finding as Finding
    from parity.env.check_lock import LockCheck as LockCheck
    from parity.env.export import ExportResult as ExportResult
    from parity.env.pins import ExportPlan as ExportPlan
    from parity.env.restore import RestoreResult as RestoreResult

_RESULT_TYPES = {
    "AuditResult": "parity.env.audit",
    "ExportPlan": "parity.env.pins",
    "ExportResult": "parity.env.export",
    "Finding": "parity.env.audit",
    "LockCheck": "parity.env.check_lock",
    "RestoreResult": "parity.env.restore",
    "Subject": "parity.api._audit",
    "WorkspaceAudit": "parity.api._audit",
}


def __getattr__(name: str) -> Any:
    if name in _RESULT_TYPES:
        return getattr(importlib.import_module(_RESULT_TYPES[name]), name)
    raise AttributeError(f"module 'parity.api.environments' has no attribute {name!r}")


__all__ = [
    "AuditResult",
    "Captured",
    "ExportPlan",
    "ExportResult",
    "Finding",
    "LockCheck",
    "RestoreResult",
    "Subject",
    "WorkspaceAudit",
    "audit",
    "audit_all",
    "capture",
    "check_lock",
    "diff",
    "export",
    "get",
    "record",
    "restore",
    "verify",
    "write_export",
]

Reference = str | os.PathLike[str] | Environment


@dataclass(frozen=True)
class Captured:
    """An environment just fingerprinted, and whether it was stored in a workspace."""

    environment: Environment
    stored: bool

    @property
    def description(self) -> str:
        """One line: interpreter, package count, machine."""
        return describe(self.environment)


@contextmanager
def _optional_workspace(workspace: Workspace | None) -> Iterator[Workspace | None]:
    """``workspace``, else the current folder's workspace when there is one (closed after).

    A ``PARITY_WORKSPACE`` that names no workspace is an error, not "no workspace": the user
    asked for one, and a typo must not silently skip storing."""
    if workspace is not None:
        yield workspace
        return
    try:
        opened = open_workspace()
    except NotFoundError:
        if os.environ.get("PARITY_WORKSPACE"):
            raise
        yield None
        return
    try:
        yield opened
    finally:
        opened.close()


def record(
    python: str | os.PathLike[str] | None = None,
    *,
    deep: bool = False,
    store: bool = True,
    output: str | os.PathLike[str] | None = None,
    workspace: Workspace | None = None,
) -> Captured:
    """Fingerprint this (or ``python``'s) environment and store it in the workspace, when there
    is one (and ``store``); with ``output``, also write the fingerprint file there.

    ``deep`` re-hashes installed files against their RECORD and asks threadpoolctl.

    >>> environments.record().environment.id             # doctest: +SKIP
    """
    # The target interpreter works on the other core while this process finds the workspace and
    # opens its stores.
    pending = start_capture(None if python is None else os.fspath(python), deep=deep)
    stored = False
    if store:
        with _optional_workspace(workspace) as ws:
            records = ws.records if ws is not None else None
            # The workspace's cache keeps unchanged distributions' facts (this interpreter only).
            environment = pending.environment(None if ws is None else ws.parity_dir / CACHE_DIR)
            if records is not None and ws is not None:
                store_environment(records, environment, now_ms(), database=ws.sqlite_file)
                stored = True
    else:
        environment = pending.environment()
    if output is not None:
        from parity.store.objects.local import atomic_write_bytes  # lazy: loads zstandard

        document = environment.to_document()  # what --json prints: one shape for both
        try:
            atomic_write_bytes(
                Path(output), json.dumps(document, indent=2, sort_keys=True).encode()
            )
        except OSError as exc:
            raise file_error(exc, output, "write") from exc
    return Captured(environment, stored)


def get(
    reference: Reference,
    *,
    python: str | os.PathLike[str] | None = None,
    workspace: Workspace | None = None,
) -> Environment:
    """The environment named by ``reference`` (``current`` is ``python``'s, or this one).

    >>> environments.get("churn@production").interpreter.version  # doctest: +SKIP
    '3.12.4'
    """
    if isinstance(reference, Environment):
        return reference
    name = os.fspath(reference)
    interpreter = None if python is None else os.fspath(python)
    if name == "current" or Path(name).is_file():
        return resolve_environment(name, None, interpreter)
    with _optional_workspace(workspace) as ws:
        return resolve_environment(name, ws, interpreter)


def _cache_dir(workspace: Workspace | None) -> Path:
    """Where resolved, hashed locks are cached: the workspace's, else the user's cache folder."""
    if workspace is not None:
        return workspace.parity_dir / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "parity"


def export(
    reference: Reference,
    format: str = "pylock",
    *,
    hashes: bool = True,
    exclude: Iterable[str] = (),
    index_url: str | None = None,
    extra_index_urls: Iterable[str] = (),
    wheels_dir: str | os.PathLike[str] | None = None,
    python: str | os.PathLike[str] | None = None,
    base_image: str | None = None,
    workspace: Workspace | None = None,
) -> ExportResult:
    """Render an environment as ``pylock``, ``requirements``, ``conda``, ``dockerfile`` or
    ``json``; ``ok`` is False when a package cannot be pinned exactly (see ``plan``) or, for a
    model's Dockerfile, the image could not serve it (see ``problems``).

    ``exclude`` leaves packages out on purpose (e.g. your own editable project); ``index_url``
    is where the packages came from (default: PyPI); ``base_image`` (``NAME:TAG``, with
    ``@sha256:…`` to pin it by digest) replaces a Dockerfile's base. A Dockerfile exported for
    a model (``NAME@ALIAS``, ``NAME/VERSION``) ends in ``parity serve`` of that model.

    >>> print(environments.export("churn@production", "requirements").main)  # doctest: +SKIP
    """
    from packaging.utils import canonicalize_name  # lazy: packaging is not needed to capture

    from parity.env.export import export_environment  # lazy: loads PyYAML and packaging
    from parity.env.hashes import DEFAULT_INDEX  # lazy: loads packaging

    with _optional_workspace(workspace) as ws:
        return export_environment(
            get(reference, python=python, workspace=ws),
            format,
            hashes=hashes,
            index_url=index_url or DEFAULT_INDEX,
            extra_index_urls=tuple(extra_index_urls),
            cache_dir=_cache_dir(ws),
            wheels_dir=None if wheels_dir is None else Path(wheels_dir),
            exclude=frozenset(canonicalize_name(name) for name in exclude),
            base_image=base_image,
            serve=_model_reference(reference) if format == "dockerfile" else None,
        )


def _model_reference(reference: Reference) -> str | None:
    """``reference`` when it names a model version (whose server an image can run)."""
    if isinstance(reference, Environment):
        return None
    name = os.fspath(reference)
    if Path(name).exists() or ("@" not in name and "/" not in name):
        return None
    kind = parse_reference(name).kind
    return name if kind in (RefKind.MODEL_ALIAS, RefKind.MODEL_VERSION) else None


def write_export(result: ExportResult, output: str | os.PathLike[str]) -> list[Path]:
    """Write an export: its main file at ``output``, the others (a Dockerfile's requirements
    and local wheels) beside it. Returns the files written.

    >>> environments.write_export(result, "deploy/Dockerfile")  # doctest: +SKIP
    [PosixPath('deploy/Dockerfile'), PosixPath('deploy/requirements.txt')]
    """
    from parity.store.objects.local import atomic_write_bytes  # lazy: loads zstandard

    main = Path(output)
    written = []
    for index, (name, text) in enumerate(result.files.items()):
        target = main if index == 0 else main.parent / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, text.encode())
        except OSError as exc:
            raise file_error(exc, target, "write") from exc
        written.append(target)
    for name, source in result.copies.items():
        target = main.parent / name
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, source.read_bytes())
        written.append(target)
    return written


def restore(
    reference: Reference,
    venv: str | os.PathLike[str],
    *,
    python: str | None = None,
    exclude: Iterable[str] = (),
    index_url: str | None = None,
    extra_index_urls: Iterable[str] = (),
    wheels_dir: str | os.PathLike[str] | None = None,
    download_python: bool = False,
    compile_bytecode: bool = False,
    workspace: Workspace | None = None,
) -> RestoreResult:
    """Build a venv with exactly ``reference``'s packages (no resolution), then verify it.

    ``python`` is the interpreter (a version or a path) the new venv is made with; by default
    an installed one of the recorded version, found with uv, in pyenv's versions folder or on
    PATH (``NotFoundError`` when there is none; ``download_python`` lets uv download it);
    ``exclude`` leaves packages out on purpose (they do not count in the verification);
    ``index_url`` where the packages came from (default: PyPI); ``compile_bytecode`` compiles
    every module at install, for a venv that will run with PYTHONDONTWRITEBYTECODE=1.

    >>> environments.restore("churn@production", "/tmp/churn-venv").ok  # doctest: +SKIP
    True
    """
    from packaging.utils import canonicalize_name  # lazy: packaging is not needed to capture

    from parity.env.hashes import DEFAULT_INDEX  # lazy: loads packaging
    from parity.env.restore import restore_environment  # lazy: loads packaging

    with _optional_workspace(workspace) as ws:
        return restore_environment(
            get(reference, workspace=ws),
            Path(venv),
            python=python,
            exclude=frozenset(canonicalize_name(name) for name in exclude),
            index_url=index_url or DEFAULT_INDEX,
            extra_index_urls=tuple(extra_index_urls),
            cache_dir=_cache_dir(ws),
            wheels_dir=None if wheels_dir is None else Path(wheels_dir),
            download_python=download_python,
            compile_bytecode=compile_bytecode,
        )


def check_lock(
    lock: str | os.PathLike[str] | None = None,
    *,
    python: str | os.PathLike[str] | None = None,
    ignore: Iterable[str] = (),
    workspace: Workspace | None = None,
) -> LockCheck:
    """How the installed environment (this one, or ``python``'s) drifts from a lock file.

    ``lock`` is uv.lock, poetry.lock, Pipfile.lock, requirements*.txt, pylock.toml or
    environment.yml; left out, the one at the git root (of the workspace, else of the current
    folder) is used. ``ignore`` names packages that may be installed undeclared.

    >>> environments.check_lock("uv.lock").ok              # doctest: +SKIP
    True
    """
    from packaging.utils import canonicalize_name  # lazy: packaging is not needed to capture

    from parity.env.check_lock import INSTALLER_TOOLS  # lazy: loads packaging
    from parity.env.check_lock import check_lock as compare_lock  # lazy: loads packaging
    from parity.env.lockfiles import find_lock, read_lock  # lazy: loads PyYAML and packaging

    if lock is None:
        start = workspace.root if workspace is not None else Path.cwd()
        path = find_lock(find_git_root(start) or start)
    else:
        path = Path(lock)
    environment = capture(None if python is None else os.fspath(python))
    declared = read_lock(path, marker_environment(environment))
    ignored = INSTALLER_TOOLS | {canonicalize_name(name) for name in ignore}
    return compare_lock(declared, environment, ignored)


def audit(
    reference: Reference,
    advisories: str | os.PathLike[str],
    *,
    python: str | os.PathLike[str] | None = None,
    workspace: Workspace | None = None,
) -> AuditResult:
    """Packages of an environment with known vulnerabilities, matched offline against OSV
    ``advisories`` (a folder of JSON files, or PyPI's all.zip).

    >>> environments.audit("current", "osv/PyPI/all.zip").vulnerable_packages  # doctest: +SKIP
    """
    from parity.env.audit import audit_environment  # lazy: loads packaging

    advisory_set = _advisory_set(Path(advisories))
    return audit_environment(get(reference, python=python, workspace=workspace), advisory_set)


def _advisory_set(path: Path) -> AdvisorySet:
    """The advisories at ``path``, read once per process while its files keep their
    modification times and sizes: a server auditing page after page reads all.zip once."""
    try:
        if path.is_dir():
            found = [p.stat() for p in path.rglob("*") if p.is_file()]
            latest = max((f.st_mtime_ns for f in found), default=0)
            stamp = (latest, sum(f.st_size for f in found), len(found))
        else:
            found_file = path.stat()
            stamp = (found_file.st_mtime_ns, found_file.st_size, 1)
    except OSError:
        from parity.env.advisories import load_advisories  # lazy: loads packaging

        return load_advisories(path)  # says what is wrong with the path
    return _cached_advisories(str(path.resolve()), stamp)


@functools.lru_cache(maxsize=2)
def _cached_advisories(path: str, _stamp: tuple[int, int, int]) -> AdvisorySet:
    from parity.env.advisories import load_advisories  # lazy: loads packaging

    return load_advisories(Path(path))


def audit_all(
    advisories: str | os.PathLike[str], *, workspace: Workspace | None = None
) -> WorkspaceAudit:
    """Audit every environment the workspace recorded, naming the models and runs made in the
    vulnerable ones.

    >>> [r.environment_id for r in environments.audit_all("all.zip").vulnerable]  # doctest: +SKIP
    """
    from parity.api._audit import audit_workspace  # lazy: the registry loads zstandard
    from parity.env.advisories import load_advisories  # lazy: loads packaging

    advisory_set = load_advisories(Path(advisories))
    with _optional_workspace(workspace) as ws:
        if ws is None:
            raise NotFoundError("--all needs a Parity workspace", hint="run 'parity init' first")
        return audit_workspace(ws, advisory_set)
