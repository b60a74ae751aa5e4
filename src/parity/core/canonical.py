"""Canonical JSON: the one byte form of a record, so that equal records have equal ids."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from parity.core.errors import UsageError

JSONValue = Any


def _check_finite(value: Any, path: str) -> None:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(
                f"cannot store non-finite number {value!r} at {path or '<root>'}",
                hint="replace NaN and infinity with null or a finite value",
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise UsageError(f"record keys must be strings, got {key!r} at {path or '<root>'}")
            _check_finite(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_finite(item, f"{path}[{index}]")


def canonical_bytes(document: Mapping[str, Any]) -> bytes:
    """Serialise ``document`` as canonical JSON: sorted keys, no spaces, UTF-8, finite numbers."""
    _check_finite(document, "")
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        # A lone surrogate: how Python decodes a file name that is not UTF-8 (os.fsdecode).
        bad, before = exc.object[exc.start : exc.end], text[: exc.start][-40:]
        raise UsageError(
            f"cannot store text that is not valid Unicode ({bad!r} after {before!r})",
            hint="rename what has a name that is not UTF-8",
        ) from exc


def parse_canonical(data: bytes) -> dict[str, Any]:
    """Parse a canonical JSON document back into a dictionary."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"not a JSON document: {exc}") from exc
    if not isinstance(value, dict):
        raise UsageError("a record must be a JSON object")
    return value
