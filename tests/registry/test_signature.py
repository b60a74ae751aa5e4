"""Signatures inferred from an input example: column types, and which columns take nulls."""

from __future__ import annotations

import numpy as np
import pandas as pd

from parity.core.model import ColumnSpec, Signature
from parity.registry.signature import infer_signature


def test_columns_with_missing_values_in_the_example_are_nullable() -> None:
    frame = pd.DataFrame(
        {"age": [30, 40], "income": [1.5, np.nan], "city": ["Oslo", None], "ok": [True, False]}
    )
    signature = infer_signature(frame, np.array([0, 1]), object())
    assert [(c.name, c.nullable) for c in signature.inputs] == [
        ("age", False),
        ("income", True),
        ("city", True),
        ("ok", False),
    ]
    columns = {"a": [1.0, float("nan")], "b": [1, 2]}
    assert [c.nullable for c in infer_signature(columns, [0, 1], object()).inputs] == [True, False]
    array = np.array([[1.0, np.nan], [2.0, 3.0]])
    assert [c.nullable for c in infer_signature(array, [0, 1], object()).inputs] == [False, True]


def test_nullable_is_written_only_when_set_so_older_records_keep_their_ids() -> None:
    plain, nullable = ColumnSpec("a", "float64"), ColumnSpec("b", "float64", nullable=True)
    assert plain.to_dict() == {"name": "a", "dtype": "float64"}
    assert nullable.to_dict() == {"name": "b", "dtype": "float64", "nullable": True}
    signature = Signature((plain, nullable))
    assert Signature.from_dict(signature.to_dict()) == signature
