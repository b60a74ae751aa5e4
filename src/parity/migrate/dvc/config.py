"""DVC's configuration as an import needs it: the cache folder and the default remote.

DVC keeps it in ``.dvc/config`` (committed) and ``.dvc/config.local`` (not committed; it wins),
INI files in configobj's dialect: ``[core]`` with ``remote = NAME``, ``[cache]`` with ``dir``,
``['remote "NAME"']`` with ``url`` and, for S3, ``endpointurl``, ``region``, ``profile``,
``access_key_id`` and ``secret_access_key``. Relative paths are relative to ``.dvc/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from parity.core.errors import UsageError
from parity.core.file_errors import file_error


@dataclass(frozen=True)
class DvcRemote:
    name: str
    url: str  # an absolute folder, or s3://bucket/prefix
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_s3(self) -> bool:
        return self.url.startswith("s3://")


@dataclass(frozen=True)
class DvcConfig:
    cache_dir: Path
    remote: DvcRemote | None  # the default remote, when one is set


def _sections(path: Path) -> dict[str, dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise file_error(exc, path, "read DVC's config") from exc
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            name = stripped[1:-1].strip()
            if len(name) > 1 and name[0] == name[-1] and name[0] in "'\"":
                name = name[1:-1]  # configobj quotes a name holding quotes: ['remote "x"']
            current = sections.setdefault(name, {})
            continue
        key, sep, value = stripped.partition("=")
        if not sep or current is None:
            raise UsageError(f"cannot read {path}: {stripped!r}", hint="check it with 'dvc config'")
        current[key.strip()] = value.strip().strip("'\"")
    return sections


def _absolute(value: str, base: Path) -> str:
    if "://" in value:
        return value.removeprefix("file://") if value.startswith("file://") else value
    return str((base / Path(value).expanduser()).resolve())


def read_config(dvc_dir: Path) -> DvcConfig:
    """The cache folder and default remote of the DVC project whose ``.dvc`` is ``dvc_dir``."""
    merged: dict[str, dict[str, str]] = {}
    for name in ("config", "config.local"):
        for section, values in _sections(dvc_dir / name).items():
            merged.setdefault(section, {}).update(values)
    cache = merged.get("cache", {}).get("dir")
    cache_dir = Path(_absolute(cache, dvc_dir)) if cache else dvc_dir / "cache"
    remote_name = merged.get("core", {}).get("remote")
    remote = None
    if remote_name:
        options = merged.get(f'remote "{remote_name}"')
        if options is None or "url" not in options:
            raise UsageError(
                f"DVC's default remote {remote_name!r} has no url in {dvc_dir / 'config'}",
                hint="fix it with 'dvc remote add -d -f NAME URL'",
            )
        url = _absolute(options["url"], dvc_dir)
        remote = DvcRemote(remote_name, url, {k: v for k, v in options.items() if k != "url"})
    return DvcConfig(cache_dir, remote)
