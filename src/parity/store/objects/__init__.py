"""Content-addressed object storage over a local folder or an S3 prefix."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from parity.core.errors import UsageError
from parity.store.objects.backend import ObjectBackend
from parity.store.objects.local import LocalBackend
from parity.store.objects.s3 import S3Backend
from parity.store.objects.store import ObjectStore

__all__ = ["LocalBackend", "ObjectBackend", "ObjectStore", "open_backend", "open_object_store"]


def open_backend(
    url: str, base: Path | None = None, endpoint_url: str | None = None, region: str | None = None
) -> ObjectBackend:
    """The backend for ``url``: a folder path, ``file://…`` or ``s3://bucket/prefix``.

    Relative folder paths are taken relative to ``base``.
    """
    if url.startswith("s3://"):
        return S3Backend(url, endpoint_url=endpoint_url, region=region)
    if url.startswith("file://"):
        return LocalBackend(Path(unquote(urlparse(url).path)))
    if "://" in url:
        raise UsageError(
            f"unsupported object store URL {url!r}",
            hint="use a folder path, file:///path or s3://bucket/prefix",
        )
    path = Path(url).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return LocalBackend(path)


def open_object_store(
    url: str, base: Path | None = None, endpoint_url: str | None = None, region: str | None = None
) -> ObjectStore:
    return ObjectStore(open_backend(url, base=base, endpoint_url=endpoint_url, region=region))
