"""Materialise the data versions a run read where its checkout expects them, every byte verified.

Each input is written by data checkout, which checks every chunk and every file against its
digest: a corrupt object stops the repro naming it (``CorruptObject``), never feeds the re-run.
The same function writes a data output of either run aside, for comparing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from parity.core.errors import CorruptObject, NotFoundError, ParityError
from parity.core.run import DataLink
from parity.data.checkout import checkout
from parity.data.statcache import StatCache
from parity.data.versions import load_version
from parity.store.objects.store import ObjectStore


class InputProblem(Exception):
    """An input that could not be materialised: which, and the error that stopped it."""

    def __init__(self, path: str, data_version: str, error: ParityError) -> None:
        super().__init__(f"input {path} ({data_version[:12]}): {error.message}")
        self.path = path
        self.data_version = data_version
        self.error = error


def materialise(
    objects: ObjectStore, cache: StatCache, data_version: str, target: Path, within: Path
) -> None:
    """Write ``data_version`` at ``target`` (inside ``within``), replacing what is there."""
    want = load_version(objects, data_version)
    key = target.relative_to(within).as_posix()
    checkout(objects, cache, target, key, want, None, force=True, within=within)


def materialise_inputs(
    objects: ObjectStore,
    cache: StatCache,
    inputs: Sequence[DataLink],
    root: Path,
    overrides: Mapping[str, str],
) -> dict[str, str]:
    """Write each input (``overrides`` replace a path's version) under ``root``, the workspace
    folder of the checkout; returns path → the version written. Raises ``InputProblem``."""
    written = {}
    for link in inputs:
        version = overrides.get(link.path, link.data_version)
        try:
            materialise(objects, cache, version, root / link.path, root)
        except (CorruptObject, NotFoundError) as exc:
            raise InputProblem(link.path, version, exc) from exc
        written[link.path] = version
    for path, version in overrides.items():
        if path not in written:
            raise InputProblem(path, version, NotFoundError(f"the run read no input at {path}"))
    return written
