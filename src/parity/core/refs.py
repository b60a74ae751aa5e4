"""The reference grammar: how a user names a record on the command line or in the API.

- ``current``: the environment being inspected
- ``name@alias``: a model version by alias (``churn@production``)
- ``name/3``: a model version by number
- ``RUN:PATH``: an artifact path inside a run
- a hex id or id prefix of at least four characters
- anything else that looks like a path: a file (a fingerprint JSON, a data pointer)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from parity.core.errors import UsageError
from parity.core.ids import MIN_PREFIX_LENGTH, is_hex_prefix

_NAME = r"[A-Za-z0-9][A-Za-z0-9_.\-]*"
_ALIAS = re.compile(rf"^(?P<name>{_NAME})@(?P<alias>{_NAME})$")
_VERSION = re.compile(rf"^(?P<name>{_NAME})/(?P<version>[0-9]+)$")
_RUN_PATH = re.compile(r"^(?P<run>[0-9a-f]{4,64}):(?P<path>.+)$")


class RefKind(Enum):
    CURRENT = "current"
    MODEL_ALIAS = "model_alias"
    MODEL_VERSION = "model_version"
    RUN_PATH = "run_path"
    ID = "id"
    PATH = "path"


@dataclass(frozen=True)
class Reference:
    kind: RefKind
    text: str
    name: str | None = None
    alias: str | None = None
    version: int | None = None
    id_prefix: str | None = None
    path: str | None = None


def parse_reference(text: str) -> Reference:
    """Parse what a user typed into a Reference, or raise UsageError saying what is accepted."""
    raw = text.strip()
    if not raw:
        raise UsageError(
            "empty reference",
            hint="name it by id prefix, NAME@ALIAS, NAME/VERSION, RUN:PATH, a file, or current",
        )
    if raw == "current":
        return Reference(RefKind.CURRENT, raw)
    if match := _RUN_PATH.match(raw):
        return Reference(RefKind.RUN_PATH, raw, id_prefix=match["run"].lower(), path=match["path"])
    if match := _ALIAS.match(raw):
        return Reference(RefKind.MODEL_ALIAS, raw, name=match["name"], alias=match["alias"])
    if match := _VERSION.match(raw):
        version = check_version(int(match["version"]), raw)
        return Reference(RefKind.MODEL_VERSION, raw, name=match["name"], version=version)
    if is_hex_prefix(raw.lower()) and "/" not in raw and "." not in raw:
        return Reference(RefKind.ID, raw, id_prefix=raw.lower())
    if "/" in raw or "." in raw or "\\" in raw:
        return Reference(RefKind.PATH, raw, path=raw)
    raise UsageError(
        f"cannot read {raw!r} as a reference",
        hint=(
            f"use an id prefix of at least {MIN_PREFIX_LENGTH} hex characters, NAME@ALIAS, "
            "NAME/VERSION, RUN:PATH, a file path, or current"
        ),
    )


# Version numbers are stored as 32-bit integers (PostgreSQL's ``integer``), the narrowest
# column any metadata store gives them: a larger number names no version anywhere.
MAX_VERSION = 2**31 - 1


def check_version(version: object, shown: str | None = None) -> int:
    """``version`` as a model version number (1 and up), or a UsageError saying why not."""
    said = shown if shown is not None else repr(version)
    if isinstance(version, bool) or not isinstance(version, int):
        raise UsageError(f"a model version is a whole number, got {said}", hint="e.g. bc/3")
    if version < 1:
        raise UsageError(f"model versions start at 1, got {said}")
    if version > MAX_VERSION:
        raise UsageError(f"no model has version {said}", hint="list them: parity models show NAME")
    return version
