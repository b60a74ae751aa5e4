"""DVC's own files, read as DVC writes them: ``*.dvc`` files and ``dvc.lock``.

A ``.dvc`` file lists ``outs``: each a ``path`` (relative to the file's folder), an ``md5`` (with
``.dir`` at the end for a folder, whose cache object is the folder's manifest), ``size``,
``nfiles`` for a folder, and ``hash: md5`` since DVC 3 (its absence marks DVC 2's md5, which
hashed text files with CRLF line ends turned into LF). ``dvc.lock`` (schema 2.0) maps each stage
name to its ``cmd``, ``deps``, ``params`` and ``outs``, paths relative to the lock's folder.

Everything here is parsing: bytes in, records out, paths made relative to the repository root.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from parity.core.errors import UsageError

DVC_SUFFIX = ".dvc"
LOCK_NAME = "dvc.lock"
DIR_SUFFIX = ".dir"


@dataclass(frozen=True)
class DvcOutput:
    """One output DVC caches: a file, or a folder (``is_dir``: its md5 names a manifest)."""

    path: str  # relative to the repository root, POSIX
    md5: str  # without ".dir"
    is_dir: bool
    size: int | None
    files: int | None
    legacy: bool  # DVC 2's md5 (text files hashed with LF line ends)
    source: str  # the DVC file that names it: "data/a.csv.dvc" or "dvc.lock"

    @property
    def origin(self) -> str:
        return f"dvc md5 {self.md5}{DIR_SUFFIX if self.is_dir else ''} ({self.source})"


@dataclass(frozen=True)
class DvcDependency:
    path: str
    md5: str | None  # None for a dependency DVC did not hash (a URL, an external file)
    is_dir: bool


@dataclass(frozen=True)
class DvcStage:
    """One stage of a ``dvc.lock``: what ran and what it read and wrote."""

    name: str
    lock: str  # the lock file's path, relative to the repository root
    command: tuple[str, ...]  # one entry per command (``cmd`` may be a list)
    deps: tuple[DvcDependency, ...]
    outs: tuple[DvcOutput, ...]
    params: Mapping[str, Any] = field(default_factory=dict)  # params file → {key: value}


def is_dvc_file(path: str) -> bool:
    name = posixpath.basename(path)
    return name == LOCK_NAME or (name.endswith(DVC_SUFFIX) and name != DVC_SUFFIX)


def _load(text: bytes, source: str) -> Any:
    import yaml  # lazy: PyYAML loads only to read DVC's files

    try:
        return yaml.safe_load(text.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot read {source}: {str(exc).splitlines()[0]}",
            hint="check the file with 'dvc status' or restore it from git",
        ) from exc


def _md5(value: object) -> str | None:
    """An md5 as written; YAML reads one made of digits only as a number (DVC quotes those)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:032d}"
    return value.lower() if isinstance(value, str) and value else None


def _join(folder: str, path: object, source: str) -> str:
    if not isinstance(path, str) or not path:
        raise UsageError(f"{source} has an entry without a path", hint="check it with DVC")
    if "://" in path:
        return path  # a URL (an imported or external dependency): not in the repository
    joined = posixpath.normpath(posixpath.join(folder, path))
    if joined.startswith("../") or joined == ".." or posixpath.isabs(joined):
        raise UsageError(
            f"{source} names {path}, outside the repository",
            hint="import the repository that holds it, or pass the other DVC files as PATHs",
        )
    return joined


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _output(entry: object, folder: str, source: str) -> DvcOutput | None:
    """An output entry; None for one DVC does not cache (``cache: false``) or never hashed."""
    if not isinstance(entry, Mapping):
        raise UsageError(f"{source} has an output that is not a mapping", hint="check it with DVC")
    md5 = _md5(entry.get("md5"))
    if entry.get("cache") is False or md5 is None:
        return None
    is_dir = md5.endswith(DIR_SUFFIX)
    return DvcOutput(
        path=_join(folder, entry.get("path"), source),
        md5=md5.removesuffix(DIR_SUFFIX),
        is_dir=is_dir,
        size=_number(entry.get("size")),
        files=_number(entry.get("nfiles")),
        legacy=entry.get("hash") != "md5",
        source=source,
    )


def read_dvc_file(text: bytes, source: str) -> list[DvcOutput]:
    """The cached outputs a ``.dvc`` file names (``source``: its path from the repository root)."""
    document = _load(text, source)
    if not isinstance(document, Mapping):
        raise UsageError(f"{source} is not a DVC file", hint="check it with 'dvc status'")
    folder = posixpath.join(posixpath.dirname(source), str(document.get("wdir") or "."))
    found = (_output(entry, folder, source) for entry in document.get("outs") or ())
    return [out for out in found if out is not None]


def read_lock_file(text: bytes, source: str) -> list[DvcStage]:
    """The stages a ``dvc.lock`` records, in the order it lists them."""
    document = _load(text, source)
    if not isinstance(document, Mapping):
        raise UsageError(f"{source} is not a dvc.lock file", hint="run 'dvc repro' to write it")
    # Schema 2.0 nests stages under "stages"; DVC 1's lock files were the mapping itself.
    stages = document.get("stages") if "schema" in document else document
    if not isinstance(stages, Mapping):
        raise UsageError(f"{source} has no stages", hint="run 'dvc repro' to write it")
    folder = posixpath.dirname(source)
    return [_stage(str(name), entry, folder, source) for name, entry in stages.items()]


def _stage(name: str, entry: object, folder: str, source: str) -> DvcStage:
    where = f"{source} stage {name}"
    if not isinstance(entry, Mapping):
        raise UsageError(f"{where} is not a mapping", hint="run 'dvc repro' to write it again")
    cmd = entry.get("cmd")
    commands = tuple(str(c) for c in cmd) if isinstance(cmd, list) else (str(cmd or ""),)
    deps = []
    for dep in entry.get("deps") or ():
        if not isinstance(dep, Mapping):
            continue
        md5 = _md5(dep.get("md5"))
        deps.append(
            DvcDependency(
                _join(folder, dep.get("path"), where),
                None if md5 is None else md5.removesuffix(DIR_SUFFIX),
                md5 is not None and md5.endswith(DIR_SUFFIX),
            )
        )
    outs = [_output(out, folder, where) for out in entry.get("outs") or ()]
    params = entry.get("params")
    return DvcStage(
        name=name,
        lock=source,
        command=commands,
        deps=tuple(deps),
        outs=tuple(out for out in outs if out is not None),
        params=dict(params) if isinstance(params, Mapping) else {},
    )


def outputs_of(path: str, text: bytes) -> list[DvcOutput]:
    """The cached outputs of one DVC file, whichever kind it is."""
    if posixpath.basename(path) == LOCK_NAME:
        return [out for stage in read_lock_file(text, path) for out in stage.outs]
    return read_dvc_file(text, path)
