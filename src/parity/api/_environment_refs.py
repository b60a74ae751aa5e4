"""Name an environment the way a user does: an id, a fingerprint file, a model, or ``current``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from parity.core.environment import ENV_KIND, Environment
from parity.core.errors import NotFoundError, UsageError
from parity.core.records import StoredRecord
from parity.core.refs import RefKind, parse_reference
from parity.env.capture import capture
from parity.env.records import load_environment
from parity.workspace import Workspace


def read_fingerprint_file(path: Path) -> Environment:
    """A fingerprint JSON: the document ``env capture -o`` writes ({id, kind, format, body}),
    the record form without its id, or the bare environment (older ``--json`` output).

    The id is recomputed from the content, never taken from the file: an edited fingerprint is
    the environment it now describes.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read fingerprint {path}: {exc}") from exc
    try:
        if isinstance(document, dict) and document.get("kind") == ENV_KIND:
            return Environment.from_record(StoredRecord.from_dict(document))
        if isinstance(document, dict):
            document.pop("id", None)
        return Environment.from_dict(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{path} is not an environment fingerprint: {exc}") from exc


def _is_program(path: Path) -> bool:
    """An executable that is not JSON: an interpreter (ELF, or a script with a #! line)."""
    if not os.access(path, os.X_OK):
        return False
    with open(path, "rb") as handle:
        start = handle.read(4)
    return start == b"\x7fELF" or start[:2] == b"#!"


def resolve_environment(
    reference: str, workspace: Workspace | None, python: str | None = None
) -> Environment:
    """The environment named by ``reference``.

    ``current`` (or ``--python PATH``), a Python interpreter's path (captured now), a fingerprint
    file, an environment id prefix, a model (``NAME@ALIAS``, ``NAME/VERSION``) or a run id: the
    environment it was trained in.
    """
    if reference == "current":
        return capture(python)
    path = Path(reference)
    if path.is_file():
        if _is_program(path):
            return capture(str(path))
        return read_fingerprint_file(path)
    if workspace is None:
        raise NotFoundError(
            f"{reference!r} is not a file, and there is no workspace to look it up in",
            hint="run inside a Parity workspace, or pass a fingerprint file",
        )
    parsed = parse_reference(reference)
    if parsed.kind in (RefKind.MODEL_ALIAS, RefKind.MODEL_VERSION):
        from parity.api._models import model_record  # lazy: the registry loads zstandard, packaging

        version, record = model_record(workspace, reference)
        if record.environment_id is None:
            raise NotFoundError(f"{version.ref} {record.environment_gap()}")
        return load_environment(workspace.records, record.environment_id)
    if parsed.kind is RefKind.ID:
        try:
            environment_id = workspace.records.resolve(parsed.id_prefix or "", kind=ENV_KIND)
        except NotFoundError as not_an_environment:
            found = _run_environment(workspace, parsed.id_prefix or "")
            if found is None:
                raise not_an_environment from None
            environment_id = found
        return load_environment(workspace.records, environment_id)
    raise NotFoundError(
        f"no environment named {reference!r}",
        hint="give an environment id, a run id, a fingerprint file, NAME@ALIAS, or current",
    )


def _run_environment(workspace: Workspace, run_prefix: str) -> str | None:
    """The environment of the run whose id starts with ``run_prefix``; None without such a run."""
    try:
        run = workspace.runs.find(run_prefix)
    except NotFoundError:
        return None
    if run.environment_id is None:
        raise NotFoundError(f"run {run.id[:16]} has no recorded environment")
    return run.environment_id
