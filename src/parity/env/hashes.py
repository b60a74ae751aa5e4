"""The exact files behind ``name==version`` pins: URL, size and sha256 of each wheel.

uv resolves the pins with ``--no-deps`` (so nothing new is resolved) for the recorded Python and
platform and writes them as a PEP 751 lock, which names every wheel with its hash. The answer is
cached by a hash of what was asked, so exporting or restoring the same record again asks nobody.
Pins the index cannot serve may be found in a local folder of wheels; the rest are reported.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from parity.core.environment import Environment
from parity.core.ids import digest_bytes
from parity.env.markers import uv_platform
from parity.env.uv_binary import uv_bin
from parity.store.objects.local import atomic_write_bytes

DEFAULT_INDEX = "https://pypi.org/simple"
UV_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class PackageFile:
    url: str
    size: int | None
    sha256: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PackageFiles:
    name: str
    version: str
    wheels: tuple[PackageFile, ...]
    sdist: PackageFile | None = None
    index: str | None = None  # the index that served them


@dataclass(frozen=True)
class HashLookup:
    files: Mapping[str, PackageFiles]  # by normalized name
    missing: tuple[str, ...]  # "name==version" pins nobody could serve
    index_url: str
    cached: bool


def lookup_files(
    pins: Sequence[tuple[str, str]],
    environment: Environment,
    *,
    index_url: str = DEFAULT_INDEX,
    extra_index_urls: Sequence[str] = (),
    cache_dir: Path | None = None,
    wheels_dir: Path | None = None,
) -> HashLookup:
    """The files of every pin (name, version), for the record's interpreter and platform."""
    pins = sorted(set(pins))
    key = digest_bytes(
        "\n".join(
            [environment.id, index_url, *extra_index_urls, *(f"{n}=={v}" for n, v in pins)]
        ).encode()
    )
    cached = cache_dir / "locks" / f"{key}.pylock.toml" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        try:
            return HashLookup(parse_uv_lock(cached.read_text("utf-8")), (), index_url, cached=True)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError):
            pass  # a damaged cache entry is only a cache miss: ask uv again and rewrite it
    indexes = (index_url, *extra_index_urls)
    text, unserved = _compile(pins, environment, indexes)
    files = parse_uv_lock(text) if text else {}
    missing: list[str] = []
    for name, version in unserved:
        local = _local_files(wheels_dir, name, version) if wheels_dir is not None else None
        if local is None:
            missing.append(f"{name}=={version}")
        else:
            files[name] = local
    if cached is not None and text and not unserved:
        cached.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(cached, text.encode())
    return HashLookup(files, tuple(missing), index_url, cached=False)


def _compile(
    pins: Sequence[tuple[str, str]], environment: Environment, indexes: Sequence[str]
) -> tuple[str, list[tuple[str, str]]]:
    """uv's pylock.toml text for the pins it can serve, and the pins it cannot."""
    remaining = list(pins)
    unserved: list[tuple[str, str]] = []
    offline = False
    while remaining:
        text, error = _run_uv(remaining, environment, indexes, offline)
        if text is not None:
            return text, unserved
        failing = _failing(error, remaining)
        if not failing and not offline:
            offline = True  # the index cannot be reached: use what uv's cache holds
            continue
        if not failing:
            # uv named no culprit: ask for each pin alone (cheap: uv's cache is warm now).
            served = [p for p in remaining if _run_uv([p], environment, indexes, offline)[0]]
            unserved += [p for p in remaining if p not in served]
            text = _run_uv(served, environment, indexes, offline)[0] if served else None
            return text or "", unserved
        # uv names one unsatisfiable pin per attempt: set it aside and ask again for the rest.
        remaining = [p for p in remaining if p not in failing]
        unserved += failing
    return "", unserved


_CULPRIT = re.compile(
    r"Because (?:there is no version of )?([A-Za-z0-9][A-Za-z0-9._\-]*?)(?:==\S+)? "
    r"(?:was not found|and you require)"
)


def _failing(error: str, pins: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    names = {canonicalize_name(match) for match in _CULPRIT.findall(error)}
    return [pin for pin in pins if canonicalize_name(pin[0]) in names]


def _run_uv(
    pins: Sequence[tuple[str, str]], environment: Environment, indexes: Sequence[str], offline: bool
) -> tuple[str | None, str]:
    """(pylock.toml text, "") when uv can serve every pin, else (None, uv's error)."""
    with tempfile.TemporaryDirectory(prefix="parity-lock-") as scratch:
        folder = Path(scratch)
        (folder / "requirements.in").write_text("".join(f"{n}=={v}\n" for n, v in pins))
        command = [
            uv_bin(),
            "pip",
            "compile",
            "--quiet",
            "--no-deps",
            "--no-header",
            "--format",
            "pylock.toml",
            "--index-url",
            indexes[0],
            # uv asks extra indexes first: a +cu121 build is found where it is published.
            *(option for url in indexes[1:] for option in ("--extra-index-url", url)),
            # Parity's own interpreter to resolve with: uv's discovery would take the first
            # python on PATH, and a pyenv shim there exits 127 when its version is not selected.
            "--python",
            sys.executable,
            "--python-version",
            environment.interpreter.version,
            "--output-file",
            str(folder / "pylock.toml"),
            str(folder / "requirements.in"),
        ]
        platform = uv_platform(environment)
        if platform is not None:
            command[3:3] = ["--python-platform", platform]
        if offline:
            command.insert(3, "--offline")
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=UV_TIMEOUT_SECONDS,
                check=False,
                cwd=folder,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, str(exc)
        if result.returncode != 0:
            return None, result.stderr
        return (folder / "pylock.toml").read_text("utf-8"), ""


def _file(entry: Mapping[str, Any]) -> PackageFile | None:
    sha256 = (entry.get("hashes") or {}).get("sha256")
    url = entry.get("url")
    if not sha256 or not url:
        return None
    size = entry.get("size")
    return PackageFile(str(url), int(size) if size is not None else None, str(sha256))


def parse_uv_lock(text: str) -> dict[str, PackageFiles]:
    files: dict[str, PackageFiles] = {}
    for package in tomllib.loads(text).get("packages", []):
        wheels = tuple(w for w in (_file(e) for e in package.get("wheels", [])) if w is not None)
        sdist = _file(package["sdist"]) if "sdist" in package else None
        name = canonicalize_name(package["name"])
        index = package.get("index")
        files[name] = PackageFiles(
            name, str(package["version"]), wheels, sdist, str(index) if index else None
        )
    return files


def _local_files(folder: Path, name: str, version: str) -> PackageFiles | None:
    """Wheels of ``name==version`` in a local folder (a wheelhouse or a pip download)."""
    wheels = []
    for path in sorted(folder.glob("*.whl")):
        try:
            wheel_name, wheel_version, _build, _tags = parse_wheel_filename(path.name)
        except InvalidWheelFilename:
            continue
        if wheel_name == canonicalize_name(name) and str(wheel_version) == version:
            data = path.read_bytes()
            sha256 = hashlib.sha256(data).hexdigest()
            wheels.append(PackageFile(path.resolve().as_uri(), len(data), sha256))
    return PackageFiles(name, version, tuple(wheels)) if wheels else None
