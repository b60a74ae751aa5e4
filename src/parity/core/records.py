"""What every persisted record shares: a kind, a format version, canonical bytes and an id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parity.core.canonical import canonical_bytes, parse_canonical
from parity.core.errors import UsageError
from parity.core.ids import digest_bytes


@dataclass(frozen=True)
class StoredRecord:
    """A record as it lives in the object store: its kind, format version and body.

    The id is the BLAKE3 digest of the canonical JSON of ``{"kind", "format", "body"}``, so the
    same content always gets the same id and any edit gives another.
    """

    kind: str
    format: int
    body: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "format": self.format, "body": self.body}

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> StoredRecord:
        try:
            kind, fmt, body = document["kind"], document["format"], document["body"]
        except KeyError as exc:
            raise UsageError(f"not a Parity record: missing {exc.args[0]!r}") from exc
        if not isinstance(kind, str) or not isinstance(fmt, int) or not isinstance(body, dict):
            raise UsageError("not a Parity record: kind, format or body has the wrong type")
        return cls(kind=kind, format=fmt, body=body)

    def body_of(self, kind: str, newest_format: int, what: str | None = None) -> dict[str, Any]:
        """The body, once this is a ``kind`` record in a format this Parity can read.

        Every record type reads through here, so a record written by a newer Parity is refused
        with the same message everywhere instead of being half understood.
        """
        what = what or f"{kind} record"
        if self.kind != kind:
            raise UsageError(f"not a {what} but a {self.kind} record")
        if self.format > newest_format:
            raise UsageError(
                f"{what} format {self.format} is newer than this Parity understands",
                hint="upgrade Parity: pip install -U parity-ml",
            )
        return self.body

    def to_bytes(self) -> bytes:
        return canonical_bytes(self.to_dict())

    @classmethod
    def from_bytes(cls, data: bytes) -> StoredRecord:
        return cls.from_dict(parse_canonical(data))

    @property
    def id(self) -> str:
        return digest_bytes(self.to_bytes())
