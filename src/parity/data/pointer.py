"""Pointer files: ``PATH.parity``, the small YAML file git versions in place of the data.

    # Parity data pointer: commit this file; the data lives in Parity's object store.
    format: 1
    data_version: 3f2a…            (the full id of the data version record)
    kind: folder                   (or file)
    size: 182452224
    files: 20000

Writing one also adds ``/NAME`` to the ``.gitignore`` beside it (once), so git versions the
pointer and never the data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.core.errors import UsageError
from parity.core.file_errors import file_error
from parity.core.ids import is_digest
from parity.data.scan import printable
from parity.store.objects.local import atomic_write_bytes

POINTER_FORMAT = 1
SUFFIX = ".parity"
_HEADER = "# Parity data pointer: commit this file; the data lives in Parity's object store.\n"
_SKIPPED_DIRS = {".git", ".parity"}
_NUMERIC_FIELDS = {"format", "size", "files"}


@dataclass(frozen=True)
class Pointer:
    data_version: str
    size: int
    files: int
    kind: str = "folder"  # "folder" or "file"
    format: int = POINTER_FORMAT

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "data_version": self.data_version,
            "kind": self.kind,
            "size": self.size,
            "files": self.files,
        }

    @classmethod
    def from_dict(cls, document: Any, source: str = "pointer") -> Pointer:
        if not isinstance(document, dict):
            raise UsageError(f"{source} is not a Parity pointer", hint="restore it from git")
        fmt = document.get("format")
        if not isinstance(fmt, int) or fmt > POINTER_FORMAT:
            raise UsageError(
                f"{source} has pointer format {fmt!r}, which this Parity does not understand",
                hint="upgrade Parity: pip install -U parity-ml",
            )
        version = str(document.get("data_version", ""))
        if not is_digest(version):
            raise UsageError(f"{source} has no valid data_version", hint="restore it from git")
        kind = str(document.get("kind", "folder"))
        if kind not in ("folder", "file"):
            raise UsageError(f"{source} has unknown kind {kind!r}", hint="restore it from git")
        size, files = _count(document.get("size")), _count(document.get("files"))
        if size is None or files is None:
            raise UsageError(f"{source} lacks size or files", hint="restore it from git")
        return cls(version, size, files, kind, fmt)

    def to_text(self) -> str:
        # YAML would read an id of digits only as a number: quote it (no real digest is one).
        lines = [
            f"{key}: '{value}'" if isinstance(value, str) and value.isdigit() else f"{key}: {value}"
            for key, value in self.to_dict().items()
        ]
        return _HEADER + "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str, source: str = "pointer") -> Pointer:
        return cls.from_dict(_parse(text, source), source)

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "pointer") -> Pointer:
        """A pointer from a file's bytes; a binary file is refused in one line."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"{source} is not a Parity pointer: it is not UTF-8 text",
                hint="restore it from git with 'git checkout -- FILE', or delete it",
            ) from exc
        return cls.from_text(text, source)


def _count(value: Any) -> int | None:
    """A size or file count: a whole number, not negative (YAML may give it as text)."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _parse(text: str, source: str) -> Any:
    """Read the pointer's YAML. The flat form Parity writes is read without loading PyYAML
    (status must start fast); anything else a person wrote goes through yaml.safe_load."""
    document: dict[str, Any] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition(": ")
        if (
            not sep
            or not key.isidentifier()
            or line[0].isspace()
            or value[:1] in "'\"[{&*!|>"
            or " #" in value  # a comment after the value
            or "\t#" in value
        ):
            return _parse_yaml(text, source)
        numeric = key in _NUMERIC_FIELDS and value.isascii() and value.isdigit()
        document[key] = int(value) if numeric else value
    return document


def _parse_yaml(text: str, source: str) -> Any:
    import yaml  # lazy: PyYAML loads only when a pointer file is read or written

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"cannot read {source}: {exc}", hint="restore it from git") from exc


def pointer_path(target: Path) -> Path:
    """Where the pointer of ``target`` (a file or folder) lives: beside it, as ``NAME.parity``."""
    return target.with_name(target.name + SUFFIX)


def target_of(pointer_file: Path) -> Path:
    """The data path a pointer file stands for (the inverse of ``pointer_path``)."""
    if not pointer_file.name.endswith(SUFFIX) or pointer_file.name == SUFFIX:
        raise UsageError(f"{pointer_file} is not a pointer file", hint=f"name it PATH{SUFFIX}")
    return pointer_file.with_name(pointer_file.name[: -len(SUFFIX)])


def read_pointer(path: Path) -> Pointer:
    """Read a pointer file; NotFoundError-free: a missing file is a UsageError naming it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(
            f"{path} does not exist", hint="run 'parity data add' on the data first"
        ) from exc
    except OSError as exc:
        raise file_error(exc, path, "read the pointer") from exc
    return Pointer.from_bytes(data, str(path))


def check_target_name(target: Path) -> None:
    """Refuse a data path whose name the pointer and ``.gitignore`` cannot carry: a line break
    (a ``.gitignore`` entry is one line: ``new\\nline.txt`` would become ``/new`` and
    ``line.txt``, ignoring every ``line.txt`` below), bytes that are not UTF-8, or a name the
    file system cannot hold once ``.parity`` is added."""
    name = target.name
    if "\n" in name or "\r" in name:
        raise UsageError(
            f"{name!r} has a line break in its name, which .gitignore cannot express",
            hint="rename it without the line break, then add it",
        )
    if not name.isascii():
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(
                f"{printable(name)} is not a UTF-8 name, which pointers and .gitignore need",
                hint="rename it, then add it",
            ) from None
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        longest = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        longest = 255
    if len(os.fsencode(name + SUFFIX)) > longest:
        raise UsageError(
            f"{name[:40]}… is too long: its pointer {SUFFIX} would pass the file system's "
            f"{longest}-byte limit on names",
            hint=f"rename it to at most {longest - len(SUFFIX)} bytes",
        )


def write_pointer(path: Path, pointer: Pointer) -> None:
    """Write ``pointer`` atomically and make git ignore the data beside it."""
    try:
        atomic_write_bytes(path, pointer.to_text().encode("utf-8"))
    except OSError as exc:
        raise file_error(exc, path, "write the pointer") from exc
    ignore_in_git(target_of(path))


def ignore_in_git(target: Path) -> None:
    """Add ``/NAME`` for ``target`` to the ``.gitignore`` of its folder, once."""
    gitignore = target.parent / ".gitignore"
    # gitignore patterns treat these characters as wildcards; the entry must match one name.
    name = "".join("\\" + char if char in "\\*?[" else char for char in target.name)
    entry = "/" + (name[:-1] + "\\ " if name.endswith(" ") else name)
    try:
        existing = gitignore.read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        existing = ""
    except OSError as exc:
        raise file_error(exc, gitignore, "read") from exc
    if entry in existing.splitlines():
        return
    prefix = existing if not existing or existing.endswith("\n") else existing + "\n"
    try:
        atomic_write_bytes(gitignore, (prefix + entry + "\n").encode("utf-8", "surrogateescape"))
    except OSError as exc:
        raise file_error(exc, gitignore, "write") from exc


def find_pointers(root: Path) -> list[Path]:
    """Every ``*.parity`` pointer file under ``root``, sorted, skipping .git and .parity."""
    found: list[Path] = []
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        names = {entry.name for entry in entries}
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                # A versioned folder holds data, not pointers: do not walk its 20,000 files.
                if entry.name not in _SKIPPED_DIRS and entry.name + SUFFIX not in names:
                    stack.append(entry.path)
            elif entry.name.endswith(SUFFIX) and entry.name != SUFFIX and entry.is_file():
                found.append(Path(entry.path))
    return sorted(found)
