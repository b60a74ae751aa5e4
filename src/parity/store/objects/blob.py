"""The on-disk form of a blob: a versioned header, then the content raw or zstd-compressed.

    b"PRTY" | format (1 byte) | codec (1 byte) | payload

The object's id is the BLAKE3 digest of the *content*, never of the encoded bytes, so the codec
can change without changing any id, and every read is checked against the id it was asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import blake3
import zstandard

from parity.core.errors import CorruptObject

MAGIC = b"PRTY"
BLOB_FORMAT = 1
CODEC_RAW = 0
CODEC_ZSTD = 1
HEADER_SIZE = len(MAGIC) + 2
ZSTD_LEVEL = 3
# Compress only when it saves at least this fraction: decompressing costs time on every read.
MIN_SAVING = 1 / 16
STREAM_BLOCK = 1 << 20
# The most a whole-object read may hold in memory (records, manifests, packs); larger content
# is streamed to a file. A few KB of zstd can claim or expand to gigabytes, so every one-shot
# decode is bounded, never only the streamed ones.
IN_MEMORY_LIMIT = 512 << 20


def header(codec: int) -> bytes:
    return MAGIC + bytes((BLOB_FORMAT, codec))


def encode(content: bytes) -> bytes:
    """The stored form of ``content``: zstd when that saves space, raw otherwise."""
    if len(content) >= 64:
        compressed = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(content)
        if len(compressed) <= len(content) * (1 - MIN_SAVING):
            return header(CODEC_ZSTD) + compressed
    return header(CODEC_RAW) + content


def parse_header(digest: str, data: bytes) -> int:
    if len(data) < HEADER_SIZE or data[:4] != MAGIC:
        raise CorruptObject(digest, "the blob header is missing or damaged")
    if data[4] != BLOB_FORMAT:
        raise CorruptObject(digest, f"unknown blob format {data[4]} (written by a newer Parity?)")
    codec = data[5]
    if codec not in (CODEC_RAW, CODEC_ZSTD):
        raise CorruptObject(digest, f"unknown codec {codec}")
    return codec


def decompress_bounded(
    payload: bytes | memoryview, limit: int, dictionary: zstandard.ZstdCompressionDict | None = None
) -> bytes:
    """One zstd frame decoded (with ``dictionary`` if it was compressed with one), refusing
    (ZstdError) to produce more than ``limit`` bytes.

    A frame that states its size is decoded into a buffer of that size at once (zstandard's
    ``max_output_size`` applies only to frames that do not), so the claim is checked first. One
    that does not state it would get a buffer of ``limit`` bytes, so it is measured first, in
    ``STREAM_BLOCK`` pieces that are dropped as they come, stopping as soon as it passes
    ``limit``; then decoded into a buffer of what was measured (which also refuses a truncated
    frame, as a stream does not)."""
    try:
        claimed = zstandard.frame_content_size(payload)
    except zstandard.ZstdError:
        claimed = 0  # a damaged header: decompressing (into 1 byte) says what is wrong with it
    if claimed > limit:
        raise zstandard.ZstdError(f"the frame claims {claimed} bytes, more than {limit}")
    decompressor = (
        zstandard.ZstdDecompressor()
        if dictionary is None
        else zstandard.ZstdDecompressor(dict_data=dictionary)
    )
    if claimed < 0:  # -1: the frame does not state its size
        claimed = _measured(decompressor, payload, limit)
    return decompressor.decompress(payload, max_output_size=max(claimed, 1))


def _measured(
    decompressor: zstandard.ZstdDecompressor, payload: bytes | memoryview, limit: int
) -> int:
    """How many bytes the frame in ``payload`` decodes to; ZstdError past ``limit``."""
    total = 0
    with decompressor.stream_reader(payload) as reader:
        while piece := reader.read(STREAM_BLOCK):
            total += len(piece)
            if total > limit:
                raise zstandard.ZstdError(f"the frame holds more than {limit} bytes")
    return total


def decode(digest: str, data: bytes, limit: int = IN_MEMORY_LIMIT) -> bytes:
    """The content of an encoded blob, verified against ``digest``; CorruptObject when it would
    hold more than ``limit`` bytes (refused before they are allocated)."""
    codec = parse_header(digest, data)
    payload = memoryview(data)[HEADER_SIZE:]
    if codec == CODEC_ZSTD:
        try:
            content = decompress_bounded(payload, limit)
        except zstandard.ZstdError as exc:
            raise CorruptObject(digest, f"cannot decompress within {limit} bytes: {exc}") from exc
    else:
        if len(payload) > limit:
            raise CorruptObject(digest, f"it holds more than a read takes ({limit} bytes)")
        content = bytes(payload)
    actual = blake3.blake3(content).hexdigest()
    if actual != digest:
        raise CorruptObject(digest, f"its content hashes to {actual[:12]}")
    return content


def decode_stream(digest: str, source: BinaryIO, size: int | None = None) -> Iterator[bytes]:
    """Yield the content of an encoded blob in blocks; raise CorruptObject at the end on mismatch.

    With ``size`` (what the record that names the blob says it holds), a blob that would yield
    more is refused before the first byte past it: a few KB of zstd can expand to gigabytes.
    Callers must not make what they wrote visible before the generator is exhausted.
    """
    codec = parse_header(digest, source.read(HEADER_SIZE))
    hasher = blake3.blake3()
    if codec == CODEC_ZSTD:
        reader = zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True)
    else:
        reader = source  # type: ignore[assignment]
    total = 0
    try:
        while block := reader.read(STREAM_BLOCK):
            total += len(block)
            if size is not None and total > size:
                raise CorruptObject(digest, f"it holds more than the {size} bytes recorded for it")
            hasher.update(block)
            yield block
    except zstandard.ZstdError as exc:
        raise CorruptObject(digest, f"cannot decompress: {exc}") from exc
    actual = hasher.hexdigest()
    if actual != digest:
        raise CorruptObject(digest, f"its content hashes to {actual[:12]}")


def worth_compressing(sample: bytes) -> bool:
    """Judge from a sample of a large file whether zstd will save space on it."""
    if len(sample) < 64:
        return False
    compressed = zstandard.ZstdCompressor(level=1).compress(sample)
    return len(compressed) <= len(sample) * (1 - MIN_SAVING)
