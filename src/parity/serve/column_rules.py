"""What each input column accepts, read from the model's signature, and the checks that say so.

A value must have the column's type: a number for a float column, a whole number for an integer
column, ``true``/``false`` for a boolean column, a string for a string column. Text that looks
like a number (``"14.1"``) and booleans in number columns are refused, not converted, so the
model sees what the client meant or the client hears why not. Null (and NaN in a binary tensor)
passes only where the signature marks the column nullable; infinities never do.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from parity.core.model import Signature


class PayloadError(ValueError):
    """The request cannot be read as the model's input; the message names what is wrong."""


class Kind(enum.Enum):
    NUMBER = "a number"
    INTEGER = "a whole number"
    BOOLEAN = "true or false"
    STRING = "a string"
    ANY = "a number, a string or a boolean"  # a dtype NumPy cannot name (category, …)


_KIND_OF_NUMPY = {
    "f": Kind.NUMBER,
    "i": Kind.INTEGER,
    "u": Kind.INTEGER,
    "b": Kind.BOOLEAN,
    "O": Kind.STRING,
    "U": Kind.STRING,
    "S": Kind.STRING,
}
NUMERIC_KINDS = frozenset({Kind.NUMBER, Kind.INTEGER, Kind.BOOLEAN})


def kind_of(dtype: str) -> Kind:
    if dtype == "string":  # pandas' string dtype, which NumPy does not know
        return Kind.STRING
    try:
        return _KIND_OF_NUMPY.get(np.dtype(dtype).kind, Kind.ANY)
    except TypeError:
        return Kind.ANY


@dataclass(frozen=True)
class ColumnRules:
    names: tuple[str, ...]
    kinds: tuple[Kind, ...]
    nullable: tuple[bool, ...]

    @classmethod
    def from_signature(cls, signature: Signature) -> ColumnRules:
        return cls(
            signature.input_names,
            tuple(kind_of(c.dtype) for c in signature.inputs),
            tuple(c.nullable for c in signature.inputs),
        )

    @property
    def numeric(self) -> bool:
        """Every column is a number, a whole number or a boolean: the matrix can be float64."""
        return set(self.kinds) <= NUMERIC_KINDS

    def check_value(self, column: int, value: Any) -> Any:
        """``value`` for the column at ``column``, or PayloadError naming the column."""
        kind, kind_type = self.kinds[column], type(value)
        if value is None or (kind_type is float and math.isnan(value)):
            if self.nullable[column]:
                # NaN where pandas would hold a missing number; None for text and the rest.
                return math.nan if kind is Kind.NUMBER or kind is Kind.INTEGER else None
            raise PayloadError(
                f"column {self.names[column]!r} is null, and the model's signature does not"
                " allow nulls in it"
            )
        if kind_type is float and math.isinf(value):
            raise PayloadError(
                f"column {self.names[column]!r} expects a finite number, got {value}"
            )
        if kind is Kind.NUMBER or kind is Kind.INTEGER:
            if kind_type is int:
                if abs(value) > _LARGEST_FLOAT:
                    raise PayloadError(f"column {self.names[column]!r}: {value} is out of range")
                return value
            if kind_type is float and (kind is Kind.NUMBER or value.is_integer()):
                return value
        elif kind is Kind.BOOLEAN:
            if kind_type is bool:
                return value
        elif kind is Kind.STRING:
            if kind_type is str:
                return value
        elif kind_type in (str, int, float, bool):
            return value
        raise PayloadError(f"column {self.names[column]!r} expects {kind.value}, got {value!r}")

    def check_matrix(self, matrix: np.ndarray[Any, Any]) -> None:
        """The same rules over a float64 matrix at NumPy speed (booleans as 0 and 1)."""
        finite = np.isfinite(matrix)
        if not finite.all():
            allowed = np.isnan(matrix) & np.asarray(self.nullable)
            bad = ~finite & ~allowed
            if bad.any():
                row, column = (int(i) for i in np.argwhere(bad)[0])
                self.check_value(column, float(matrix[row, column]))
        for kind, accepted in ((Kind.INTEGER, _is_whole), (Kind.BOOLEAN, _is_zero_or_one)):
            columns = [i for i, k in enumerate(self.kinds) if k is kind]
            if not columns:
                continue
            values = matrix[:, columns]
            wrong = ~(accepted(values) | np.isnan(values))
            if wrong.any():
                row, at = (int(i) for i in np.argwhere(wrong)[0])
                name, value = self.names[columns[at]], values[row, at].item()
                raise PayloadError(f"column {name!r} expects {kind.value}, got {value!r}")


_LARGEST_FLOAT = float(np.finfo(np.float64).max)


def _is_whole(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.asarray(values == np.trunc(values))


def _is_zero_or_one(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.asarray((values == 0) | (values == 1))
