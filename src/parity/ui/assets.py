"""The UI's static files under content-hashed names, so a browser may keep each for a year:
a changed file gets a new name, and the pages name the current one (``url``)."""

from __future__ import annotations

import functools
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import Response

from parity.core.errors import NotFoundError

STATIC = Path(__file__).parent / "static"
PREFIX = "/static/"
CACHE_CONTROL = "public, max-age=31536000, immutable"
_SERVED = {".js", ".css", ".svg", ".png", ".ico"}


@dataclass(frozen=True)
class Catalog:
    hashed: dict[str, str]  # "vendor/htmx.min.js" -> "vendor/htmx.min.e209dda5c823.js"
    files: dict[str, Path]  # the hashed name -> its file


def hashed_name(relative: str, content: bytes) -> str:
    """``vendor/htmx.min.js`` -> ``vendor/htmx.min.<12 hex of its SHA-256>.js``."""
    base, dot, suffix = relative.rpartition(".")
    digest = hashlib.sha256(content).hexdigest()[:12]
    return f"{base}.{digest}.{suffix}" if dot else f"{relative}.{digest}"


@functools.cache
def catalog() -> Catalog:
    hashed: dict[str, str] = {}
    files: dict[str, Path] = {}
    for path in sorted(STATIC.rglob("*")):
        if not path.is_file() or path.suffix not in _SERVED:
            continue
        relative = path.relative_to(STATIC).as_posix()
        name = hashed_name(relative, path.read_bytes())
        hashed[relative] = name
        files[name] = path
    return Catalog(hashed, files)


def url(relative: str) -> str:
    """The URL of a static file under its hashed name."""
    return PREFIX + catalog().hashed[relative]


def static_file(name: str) -> Response:
    """A static file by its hashed name, cacheable for a year; any other name is not found."""
    path = catalog().files.get(name)
    if path is None:
        raise NotFoundError(f"no static file {name!r}", hint="reload the page")
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Response(
        path.read_bytes(),
        media_type=media,
        headers={"Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"},
    )


def favicon() -> Response:
    """The site's icon where browsers look for it unasked, ``/favicon.ico`` (an SVG)."""
    path = STATIC / "favicon.svg"
    return Response(
        path.read_bytes(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
