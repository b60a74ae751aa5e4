"""Identifiers: content digests for records and objects, time-sortable ids for runs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

import blake3

from parity.core.errors import AmbiguousReference, NotFoundError, UsageError

DIGEST_HEX_LENGTH = 64
SHORT_LENGTH = 12
MIN_PREFIX_LENGTH = 4
_HEX = re.compile(r"^[0-9a-f]+$")


def digest_bytes(data: bytes) -> str:
    """The BLAKE3 digest of ``data`` as 64 lowercase hex characters."""
    return blake3.blake3(data).hexdigest()


def short_id(digest: str) -> str:
    """The form of an id a person reads: its first 12 hex characters."""
    return digest[:SHORT_LENGTH]


def is_digest(text: str) -> bool:
    return len(text) == DIGEST_HEX_LENGTH and bool(_HEX.match(text))


def is_hex_prefix(text: str) -> bool:
    return MIN_PREFIX_LENGTH <= len(text) <= DIGEST_HEX_LENGTH and bool(_HEX.match(text))


def resolve_prefix(prefix: str, candidates: Iterable[str], kind: str = "record") -> str:
    """Return the one candidate that starts with ``prefix``.

    Raises NotFoundError when none does and AmbiguousReference when several do.
    """
    prefix = prefix.lower()
    if not is_hex_prefix(prefix):
        raise UsageError(
            f"{prefix!r} is not an id or id prefix",
            hint=f"give at least {MIN_PREFIX_LENGTH} hex characters of the {kind} id",
        )
    matches = sorted({c for c in candidates if c.startswith(prefix)})
    if not matches:
        raise NotFoundError(f"no {kind} has an id starting with {prefix}")
    if len(matches) > 1:
        shown = ", ".join(short_id(m) for m in matches[:5])
        raise AmbiguousReference(
            f"{prefix} matches {len(matches)} {kind}s ({shown})",
            hint="give more characters of the id",
        )
    return matches[0]


def new_run_id(now_ms: int, random_bits: bytes) -> str:
    """A UUIDv7 (RFC 9562) as 32 hex characters: ids created later sort later.

    The caller passes the clock and the randomness, so the core stays free of I/O.
    """
    millis, rand = now_ms, random_bits
    if len(rand) != 10:
        raise ValueError("random_bits must be 10 bytes")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (int.from_bytes(rand[:2], "big") & 0x0FFF) << 64
    value |= 0b10 << 62
    value |= int.from_bytes(rand[2:], "big") & ((1 << 62) - 1)
    return uuid.UUID(int=value).hex


def run_id_time_ms(run_id: str) -> int:
    """The creation time (milliseconds since the epoch) encoded in a run id."""
    return int(run_id[:12], 16)
