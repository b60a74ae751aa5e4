"""Object backend over a Parity server's object routes: the same encoded blobs, by digest.

Keys (``ab/cdef…``) become digests on the wire, checked here before any request: the server is
only ever asked about 64 hex characters, never a path. The server decodes and re-hashes every
upload and refuses one whose content does not match its digest; reads are verified by the
``ObjectStore`` above, as with every backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from parity.core.config import masked_url
from parity.core.errors import UsageError
from parity.core.file_errors import file_error

if TYPE_CHECKING:
    from parity.store.http.client import ServerClient

_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{62}$")
# Digests asked about per request (64 hex characters each: ~0.7 MB of JSON).
HAS_BATCH = 10_000
LIST_PAGE = 10_000
# How long an upload may wait for the server's answer: a base, plus the time it takes to
# re-hash and store the object at a slow store's pace.
WAIT_S = 60.0
SLOWEST_BYTES_PER_S = 10 << 20


def digest_of(key: str) -> str:
    """The digest a key ``ab/cdef…`` stands for; UsageError for anything else."""
    if not _KEY.match(key):
        raise UsageError(f"{key!r} is not an object key", hint="objects are named by digest")
    return key.replace("/", "")


def key_of(digest: str) -> str:
    return f"{digest[:2]}/{digest[2:]}"


class HttpObjectBackend:
    """Blobs stored by the Parity server ``client`` talks to; temp files in ``scratch``.

    With ``owns_client``, ``close()`` closes the client (a remote's); else its owner does (the
    workspace, whose client the record and chunk indexes share)."""

    def __init__(self, client: ServerClient, scratch: Path, owns_client: bool = False) -> None:
        self.client = client
        self.owns_client = owns_client
        self.url = masked_url(client.url)
        self._scratch = scratch
        try:
            scratch.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise file_error(exc, scratch, "create") from exc

    def read(self, key: str) -> bytes:
        return self.client.request("GET", f"/objects/{digest_of(key)}").content

    def read_to_file(self, key: str, destination: Path) -> None:
        self.client.download(f"/objects/{digest_of(key)}", destination)

    def write(self, key: str, data: bytes) -> None:
        self.client.request("PUT", f"/objects/{digest_of(key)}", content=data)

    def write_file(self, key: str, source: Path) -> None:
        # The server answers once it has re-hashed and stored the object: allow for that.
        wait = WAIT_S + source.stat().st_size / SLOWEST_BYTES_PER_S
        self.client.request("PUT", f"/objects/{digest_of(key)}", content=source, timeout_s=wait)
        source.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return bool(self.existing([key]))

    def existing(self, keys: Iterable[str]) -> set[str]:
        wanted = {digest_of(key): key for key in keys}
        digests = sorted(wanted)
        present: set[str] = set()
        for start in range(0, len(digests), HAS_BATCH):
            answer = self.client.post(
                "/objects/has", {"digests": digests[start : start + HAS_BATCH]}, retry=True
            )
            present.update(wanted[d] for d in answer["present"] if d in wanted)
        return present

    def delete(self, key: str) -> None:
        self.client.request("DELETE", f"/objects/{digest_of(key)}")

    def list_keys(self) -> Iterator[str]:
        after = ""
        while True:
            page = self.client.get("/objects", params={"after": after, "limit": LIST_PAGE})
            for digest in page["digests"]:
                yield key_of(digest)
            if not page.get("next"):
                return
            after = page["next"]

    def local_path(self, key: str) -> Path | None:
        return None

    def scratch_dir(self) -> Path:
        return self._scratch

    def close(self) -> None:
        if self.owns_client:
            self.client.close()
