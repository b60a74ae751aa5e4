"""Glob patterns over a workspace (``deploy/**/*.yaml``), matched without walking what no pattern
can reach: each pattern's walk starts at its literal folder, and ``.git`` and ``.parity`` are
never entered."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from parity.core.errors import UsageError

_SKIPPED = {".git", ".parity"}
_MAGIC = re.compile(r"[*?\[]")


def check_pattern(pattern: str) -> str:
    """A relative POSIX pattern inside the workspace: no absolute path, no ``..``."""
    if not pattern or pattern.startswith("/") or ".." in pattern.split("/") or "\\" in pattern:
        raise UsageError(
            f"infra pattern {pattern!r} must be relative to the workspace root",
            hint='e.g. "Dockerfile", "deploy/**/*.yaml", "infra/**/*.tf"',
        )
    return pattern


def translate(pattern: str) -> re.Pattern[str]:
    """The regular expression of a glob: ``*`` and ``?`` within a path part, ``**`` across any
    number of parts (none included), ``[…]`` a character class."""
    out, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:[^/]+/)*")
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1 : end].replace("\\", "\\\\")
                out.append(f"[^{body[1:]}]" if body.startswith("!") else f"[{body}]")
                index = end
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out) + r"\Z")


def _start(pattern: str) -> str:
    """The literal folder a pattern's matches all lie under ("" for the root)."""
    parts = pattern.split("/")
    literal = []
    for part in parts[:-1]:
        if _MAGIC.search(part):
            break
        literal.append(part)
    return "/".join(literal)


def _walk(root: Path, start: str) -> Iterable[str]:
    base = root / start if start else root
    if base.is_file():
        yield start
        return
    for folder, folders, files in os.walk(base):
        folders[:] = sorted(f for f in folders if f not in _SKIPPED)
        relative = Path(folder).relative_to(root).as_posix()
        prefix = "" if relative == "." else f"{relative}/"
        for name in sorted(files):
            yield prefix + name


def match_files(root: Path, patterns: Sequence[str]) -> list[str]:
    """Every file under ``root`` some pattern matches, as sorted relative POSIX paths. A match
    that is a symbolic link is kept only when it leads to a file inside ``root``."""
    resolved_root = root.resolve()
    found: set[str] = set()
    for pattern in patterns:
        regex = translate(check_pattern(pattern))
        literal = not _MAGIC.search(pattern)
        candidates = [pattern] if literal else _walk(root, _start(pattern))
        for path in candidates:
            if path in found or not regex.match(path):
                continue
            target = (root / path).resolve()
            if target.is_file() and target.is_relative_to(resolved_root):
                found.add(path)
    return sorted(found)
