"""The reference profile of a table: enough to test drift without reloading the data.

Per numeric column: a fine quantile grid (the reference CDF), fixed PSI bin edges that never move,
and a noise floor measured on held-out chunks of the training data. Per categorical column: the
category frequencies. Immutable and content-addressed, like every record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from parity.core.records import StoredRecord
from parity.core.references import RecordReferences, Reference, Target, referenced

PROFILE_KIND = "profile"
PROFILE_FORMAT = 1


@dataclass(frozen=True)
class NoiseFloor:
    """The 99th percentile of PSI and KS between held-out chunks of ``rows`` rows and the rest."""

    rows: int
    psi: float
    ks: float


@dataclass(frozen=True)
class NumericProfile:
    name: str
    count: int
    missing: int
    mean: float
    std: float
    quantiles: tuple[float, ...]  # at probabilities 0, 1/Q, …, 1
    psi_edges: tuple[float, ...]  # inner edges of the PSI bins (deciles)
    psi_reference: tuple[float, ...]  # the reference share in each PSI bin
    noise: tuple[NoiseFloor, ...] = ()


@dataclass(frozen=True)
class CategoricalProfile:
    name: str
    count: int
    missing: int
    frequencies: Mapping[str, float] = field(default_factory=dict)  # includes "__other__"


@dataclass(frozen=True)
class Profile:
    rows: int
    numeric: tuple[NumericProfile, ...]
    categorical: tuple[CategoricalProfile, ...] = ()
    data_version: str | None = None

    def column(self, name: str) -> NumericProfile | CategoricalProfile | None:
        columns: tuple[NumericProfile | CategoricalProfile, ...] = (
            *self.numeric,
            *self.categorical,
        )
        return next((column for column in columns if column.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Profile:
        numeric = tuple(
            NumericProfile(
                **{
                    **n,
                    "quantiles": tuple(n["quantiles"]),
                    "psi_edges": tuple(n["psi_edges"]),
                    "psi_reference": tuple(n["psi_reference"]),
                    "noise": tuple(NoiseFloor(**f) for f in n.get("noise", ())),
                }
            )
            for n in document.get("numeric", ())
        )
        categorical = tuple(CategoricalProfile(**c) for c in document.get("categorical", ()))
        return cls(
            rows=int(document["rows"]),
            numeric=numeric,
            categorical=categorical,
            data_version=document.get("data_version"),
        )

    def to_record(self) -> StoredRecord:
        return StoredRecord(PROFILE_KIND, PROFILE_FORMAT, self.to_dict())

    @classmethod
    def from_record(cls, record: StoredRecord) -> Profile:
        return cls.from_dict(record.body_of(PROFILE_KIND, PROFILE_FORMAT, "profile record"))


def profile_references(body: Mapping[str, Any]) -> list[Reference]:
    """The data version the profile describes."""
    return referenced(Target.DATA_VERSION, body.get("data_version"), "data_version")


PROFILE_REFERENCES = RecordReferences(PROFILE_KIND, PROFILE_FORMAT, profile_references)
