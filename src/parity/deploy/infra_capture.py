"""Store the infrastructure files of a run: matched by globs, screened for secrets, kept as blobs.

Each matched file is read as UTF-8 text and screened (``parity.core.secrets``): secret-looking
values are replaced before the blob is written, and a file that is a secret as a whole, is not
text, or is larger than ``MAX_FILE_BYTES`` is refused and only named. ``on_warning`` hears of
every replaced value and every refused file, by path, line and name, never by value. With
``refuse_secrets`` a file with any secret-looking value is refused instead of redacted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from parity.core.errors import UsageError
from parity.core.infra import InfraFile, InfraSnapshot, RefusedFile
from parity.core.secrets import screen
from parity.deploy.globs import check_pattern, match_files
from parity.store.objects.store import ObjectStore
from parity.store.records import RecordStore

MAX_FILE_BYTES = 1024 * 1024
MAX_FILES = 1000
SECRET_POLICIES = ("redact", "refuse")


def configured_patterns(
    section: Mapping[str, Any], extra: Sequence[str] = ()
) -> tuple[tuple[str, ...], bool]:
    """The patterns of ``[lineage] infra`` plus ``extra``, and whether secrets refuse a file
    (``[lineage] infra_secrets = "refuse"``) rather than being redacted."""
    configured = section.get("infra", [])
    if isinstance(configured, str) or not all(isinstance(p, str) for p in configured):
        raise UsageError(
            "[lineage] infra in config.toml must be a list of glob patterns",
            hint='e.g. infra = ["Dockerfile", "deploy/**/*.yaml", "infra/**/*.tf"]',
        )
    policy = section.get("infra_secrets", "redact")
    if policy not in SECRET_POLICIES:
        raise UsageError(
            f"[lineage] infra_secrets = {policy!r} is not a policy",
            hint='use "redact" (the default) or "refuse"',
        )
    patterns = tuple(dict.fromkeys(check_pattern(p) for p in (*configured, *extra)))
    return patterns, policy == "refuse"


def _read_text(path: Path) -> tuple[str | None, str | None]:
    """(text, None), or (None, why it is not stored)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, f"larger than {MAX_FILE_BYTES // 1024} KiB"
        return path.read_bytes().decode("utf-8"), None
    except UnicodeDecodeError:
        return None, "not UTF-8 text, so it cannot be checked for secrets"
    except OSError as exc:
        return None, f"cannot be read: {exc.strerror or exc}"


def capture_infra(
    root: Path,
    patterns: Sequence[str],
    objects: ObjectStore,
    on_warning: Callable[[str], None],
    refuse_secrets: bool = False,
) -> InfraSnapshot | None:
    """The snapshot of what ``patterns`` match under ``root`` (None when they match nothing)."""
    if not patterns:
        return None
    paths = match_files(root, patterns)
    if not paths:
        on_warning(f"infra patterns {', '.join(patterns)} match no file: nothing stored")
        return None
    if len(paths) > MAX_FILES:
        on_warning(f"infra patterns match {len(paths)} files: only the first {MAX_FILES} stored")
        paths = paths[:MAX_FILES]
    files: list[InfraFile] = []
    refused: list[RefusedFile] = []
    for path in paths:
        text, problem = _read_text(root / path)
        if text is None:
            refused.append(RefusedFile(path, problem or "unreadable"))
            on_warning(f"infra file {path} not stored: {problem}")
            continue
        screened = screen(path, text)
        if screened.refused is not None:
            refused.append(RefusedFile(path, screened.refused))
            on_warning(f"infra file {path} not stored: {screened.refused}")
            continue
        if screened.findings:
            where = ", ".join(f"{f.name} (line {f.line})" for f in screened.findings)
            if refuse_secrets:
                refused.append(RefusedFile(path, f"secret-looking values: {where}"))
                on_warning(f"infra file {path} not stored: it holds secret-looking values: {where}")
                continue
            on_warning(f"infra file {path}: secret-looking values redacted before storing: {where}")
        content = screened.text.encode("utf-8")
        digest = objects.put_bytes(content)
        names = tuple(dict.fromkeys(f.name for f in screened.findings))
        files.append(InfraFile(path, digest, len(content), names))
    return InfraSnapshot(tuple(patterns), tuple(files), tuple(refused))


def store_infra(records: RecordStore, snapshot: InfraSnapshot, created_ms: int) -> str:
    return records.put(snapshot.to_record(), created_ms)


def load_infra(records: RecordStore, infra_id: str) -> InfraSnapshot:
    return InfraSnapshot.from_record(records.get(infra_id))
