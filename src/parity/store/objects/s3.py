"""Object backend over an S3 bucket and prefix, at any S3-compatible endpoint (boto3).

S3 PUTs are atomic, so a reader never sees a partial object. botocore's exceptions are translated
here into Parity's, with the cause chained; none escapes this module.
"""

from __future__ import annotations

import importlib.util
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.core.config import masked_url
from parity.core.errors import NotFoundError, StorageError, UsageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Objects up to this size go up in one PUT. A push killed mid-upload then leaves nothing on the
# server, where a killed multipart upload leaves its parts behind (stored, and billed, until a
# bucket lifecycle rule aborts them). Packs are at most ~64 MiB; larger objects (a big model
# file) still go up in parallel parts.
SINGLE_PUT_UP_TO = 128 << 20

_MISSING = {"404", "NoSuchKey", "NotFound"}
_DENIED = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → (``bucket``, ``some/prefix``)."""
    if not url.startswith("s3://"):
        raise UsageError(f"not an S3 URL: {url!r}", hint="write it as s3://BUCKET/PREFIX")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise UsageError(f"no bucket in {url!r}", hint="write it as s3://BUCKET/PREFIX")
    return bucket, prefix.strip("/")


class S3Backend:
    """Objects under ``s3://bucket/prefix``. The boto3 client is made on the first request, so
    a command that only names the store (``parity status``, listing runs) never loads boto3."""

    def __init__(
        self, url: str, endpoint_url: str | None = None, region: str | None = None
    ) -> None:
        if importlib.util.find_spec("boto3") is None:  # pragma: no cover - depends on the install
            raise UsageError("S3 support is not installed", hint="pip install 'parity-ml[s3]'")
        self.url = masked_url(url)  # what messages show: never a secret typed into the URL
        self.bucket, self.prefix = parse_s3_url(url)
        self._scratch = Path(tempfile.gettempdir())
        self._endpoint_url = endpoint_url
        self._region = region or "us-east-1"
        self._client_lock = threading.Lock()
        self._client: S3Client | None = None

    @property
    def client(self) -> S3Client:
        client = self._client
        if client is None:
            # Transfer threads may ask at once, and boto3 makes clients unsafely in parallel.
            with self._client_lock:
                if self._client is None:
                    self._client = self._make_client()
                client = self._client
        return client

    def _make_client(self) -> S3Client:
        import boto3  # lazy: boto3 (~300 ms) loads on the first request, not to name a store
        from botocore.config import (
            Config,
        )  # lazy: boto3 (~300 ms) loads on the first request, not to name a store

        config = Config(retries={"max_attempts": 5, "mode": "standard"}, max_pool_connections=32)
        return boto3.client(
            "s3", endpoint_url=self._endpoint_url, region_name=self._region, config=config
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _fail(self, action: str, key: str, exc: Exception) -> StorageError:
        from botocore.exceptions import (
            ConnectionError,
            CredentialRetrievalError,
            NoCredentialsError,
            PartialCredentialsError,
        )  # lazy: boto3 (~300 ms) loads only when an S3 store is used

        where = f"{self.url}/{key}" if key else self.url
        code = str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))
        if isinstance(exc, ConnectionError):
            endpoint = self.client.meta.endpoint_url
            return StorageError(
                f"cannot {action} {where}: {endpoint} does not answer",
                hint="check the endpoint URL and that the server is up",
            )
        if code == "NoSuchBucket":
            return StorageError(
                f"cannot {action} {where}: bucket {self.bucket!r} does not exist",
                hint="create the bucket, or fix the URL with 'parity remote add'",
            )
        if code in _DENIED or isinstance(
            exc, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError
        ):
            return StorageError(
                f"cannot {action} {where}: {exc}",
                hint="check the credentials (AWS_ACCESS_KEY_ID / AWS_PROFILE) and their rights",
            )
        return StorageError(
            f"cannot {action} {where}: {exc}",
            hint="check the endpoint, bucket and credentials",
        )

    def _is_missing(self, exc: Exception) -> bool:
        response: Any = getattr(exc, "response", None) or {}
        return str(response.get("Error", {}).get("Code")) in _MISSING

    def read(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return response["Body"].read()
        except Exception as exc:
            if self._is_missing(exc):
                raise NotFoundError(f"object {key.replace('/', '')} is not in {self.url}") from exc
            raise self._fail("read", key, exc) from exc

    def read_to_file(self, key: str, destination: Path) -> None:
        try:
            self.client.download_file(self.bucket, self._key(key), str(destination))
        except Exception as exc:
            if self._is_missing(exc):
                raise NotFoundError(f"object {key.replace('/', '')} is not in {self.url}") from exc
            raise self._fail("read", key, exc) from exc

    def write(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except Exception as exc:
            raise self._fail("write", key, exc) from exc

    def write_file(self, key: str, source: Path) -> None:
        from boto3.s3.transfer import (
            TransferConfig,
        )  # lazy: boto3 (~300 ms) loads only when an S3 store is used

        single_put = TransferConfig(multipart_threshold=SINGLE_PUT_UP_TO)
        try:
            self.client.upload_file(str(source), self.bucket, self._key(key), Config=single_put)
        except Exception as exc:
            raise self._fail("write", key, exc) from exc
        source.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            if self._is_missing(exc):
                return False
            raise self._fail("look up", key, exc) from exc
        return True

    def existing(self, keys: Iterable[str]) -> set[str]:
        wanted = set(keys)
        if len(wanted) <= 16:
            return {key for key in wanted if self.exists(key)}
        # One listing beats thousands of HEAD requests once more than a handful are asked about.
        return wanted & set(self.list_keys())

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise self._fail("delete", key, exc) from exc

    def list_keys(self) -> Iterator[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
                for item in page.get("Contents", []):
                    yield item["Key"][len(start) :]
        except Exception as exc:
            raise self._fail("list", "", exc) from exc

    def local_path(self, key: str) -> Path | None:
        return None

    def scratch_dir(self) -> Path:
        return self._scratch
