"""Identifiers: content digests for records and objects, time-sortable ids for runs, and the
shortest prefix that names one id among others (what people read and type)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

import blake3

from parity.core.errors import AmbiguousReference, NotFoundError, UsageError

DIGEST_HEX_LENGTH = 64
SHORT_LENGTH = 12
MIN_PREFIX_LENGTH = 4
# Run ids start with their creation second (8 hex): runs started in different seconds differ
# within 8 characters, and a later run can never take a prefix that long from an earlier one.
RUN_PREFIX_LENGTH = 8
RUN_RANDOM_BYTES = 12
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
        names = shortest_unique_prefixes(matches, len(prefix) + 1)
        shown = ", ".join(names[m] for m in matches[:5])
        raise AmbiguousReference(
            f"{prefix} matches {len(matches)} {kind}s ({shown})",
            hint="give more characters of the id",
        )
    return matches[0]


def common_prefix_length(a: str, b: str) -> int:
    """How many leading characters ``a`` and ``b`` share."""
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return index
    return min(len(a), len(b))


def unique_prefix(value: str, neighbours: Iterable[str], minimum: int = MIN_PREFIX_LENGTH) -> str:
    """The shortest prefix of ``value``, at least ``minimum`` long, that none of ``neighbours``
    starts with (git's abbreviated ids). Its sorted neighbours are enough to decide it."""
    shared = max((common_prefix_length(value, n) for n in neighbours if n != value), default=-1)
    return value[: max(minimum, shared + 1)]


def shortest_unique_prefixes(
    values: Iterable[str], minimum: int = MIN_PREFIX_LENGTH
) -> dict[str, str]:
    """Each of ``values`` with the shortest prefix (at least ``minimum`` long) no other has."""
    ordered = sorted(set(values))
    return {
        value: unique_prefix(value, ordered[max(index - 1, 0) : index + 2], minimum)
        for index, value in enumerate(ordered)
    }


def new_run_id(now_ms: int, random_bits: bytes) -> str:
    """A UUIDv8 (RFC 9562) as 32 hex characters: the creation second (32 bits), then randomness.

    Ids created in a later second sort later, and runs started seconds apart differ within their
    first 8 characters; runs started in the same second (a sweep) differ a character or two
    later, in the random part, not after 12 characters of a shared millisecond as UUIDv7's did.
    The exact start time is kept beside the id. The caller passes the clock and the randomness,
    so the core stays free of I/O.
    """
    if len(random_bits) != RUN_RANDOM_BYTES:
        raise ValueError(f"random_bits must be {RUN_RANDOM_BYTES} bytes")
    rand = int.from_bytes(random_bits, "big")
    value = ((now_ms // 1000) & 0xFFFF_FFFF) << 96
    value |= ((rand >> 80) & 0xFFFF) << 80
    value |= 0x8 << 76  # version 8: a layout of our own
    value |= ((rand >> 64) & 0x0FFF) << 64
    value |= 0b10 << 62  # the RFC 9562 variant
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value).hex
