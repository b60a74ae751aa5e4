"""Relative paths inside records: they must stay inside the folder they are written into.

A data version or model record may come from a remote or a colleague; a path like ``../../.ssh``
in it must never make checkout or load write outside its target.
"""

from __future__ import annotations


def is_contained(path: str) -> bool:
    """True for a non-empty relative POSIX path with no ``..``, ``.`` or empty parts, no NUL."""
    if not path or "\x00" in path or path.startswith("/"):
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))
