"""Files whose bytes differ, compared by what they hold: tables, arrays, JSON, other bytes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from parity.repro.files import compare_files
from parity.repro.outcome import Outcome


def _pair(tmp_path: Path, name: str) -> tuple[Path, Path]:
    (tmp_path / "a").mkdir(exist_ok=True)
    (tmp_path / "b").mkdir(exist_ok=True)
    return tmp_path / "a" / name, tmp_path / "b" / name


def test_tables_by_schema_rows_and_per_column_closeness(tmp_path: Path) -> None:
    a, b = _pair(tmp_path, "scores.csv")
    frame = pd.DataFrame({"id": [1, 2, 3], "score": [0.5, 0.25, 0.125], "label": list("xyz")})
    frame.to_csv(a, index=False)
    frame.assign(score=frame.score * (1 + 1e-12)).to_csv(b, index=False, float_format="%.17g")
    close = compare_files("output", "scores.csv", a, b, 1e-9)
    assert close.outcome is Outcome.CLOSE
    assert close.max_rel_error is not None
    assert 0 < close.max_rel_error < 1e-9
    frame.to_csv(b, index=False, float_format="%.3f")  # other bytes, the same values
    assert compare_files("output", "s", a, b, 0.0).outcome is Outcome.IDENTICAL
    frame.assign(label=list("xyy")).to_csv(b, index=False)
    differs = compare_files("output", "s", a, b, 1e-9)
    assert (differs.outcome, differs.detail) == (
        Outcome.DIFFERENT,
        "column label: 1 of 3 values differ",
    )
    frame.head(2).to_csv(b, index=False)
    assert compare_files("output", "s", a, b, 1e-9).detail == "3 rows, now 2"
    frame.rename(columns={"label": "tag"}).to_csv(b, index=False)
    assert "columns or types" in compare_files("output", "s", a, b, 1e-9).detail


def test_arrays_by_shape_dtype_and_largest_error(tmp_path: Path) -> None:
    a, b = _pair(tmp_path, "weights.npy")
    np.save(a, np.array([1.0, 2.0, 4.0]))
    np.save(b, np.array([1.0, 2.0, 4.0 + 4e-6]))
    found = compare_files("artifact", "weights.npy", a, b, 1e-9)
    assert found.outcome is Outcome.DIFFERENT
    assert found.max_abs_error is not None
    assert abs(found.max_abs_error - 4e-6) < 1e-9
    assert compare_files("artifact", "w", a, b, 1e-5).outcome is Outcome.CLOSE
    np.save(b, np.zeros((3, 1)))
    assert "float64[3, 1]" in compare_files("artifact", "w", a, b, 1.0).detail
    npz_a, npz_b = _pair(tmp_path, "both.npz")
    np.savez(npz_a, x=np.arange(3), y=np.ones(2))
    np.savez(npz_b, x=np.arange(3), y=np.ones(2))
    assert compare_files("artifact", "z", npz_a, npz_b, 0.0).outcome is Outcome.IDENTICAL


def test_json_is_canonicalised_and_its_numbers_compared(tmp_path: Path) -> None:
    a, b = _pair(tmp_path, "metrics.json")
    a.write_text(json.dumps({"b": [1, 2.0], "a": {"x": True}}))
    b.write_text(json.dumps({"a": {"x": True}, "b": [1, 2.0]}, indent=4))
    assert compare_files("artifact", "m", a, b, 0.0).outcome is Outcome.IDENTICAL
    b.write_text(json.dumps({"a": {"x": True}, "b": [1, 2.0000001]}))
    assert compare_files("artifact", "m", a, b, 1e-6).outcome is Outcome.CLOSE
    b.write_text(json.dumps({"a": {"x": False}, "b": [1, 2.0]}))
    assert compare_files("artifact", "m", a, b, 1.0).outcome is Outcome.DIFFERENT


def test_other_bytes_are_different_and_unreadable_files_fall_back_to_bytes(
    tmp_path: Path,
) -> None:
    a, b = _pair(tmp_path, "model.bin")
    a.write_bytes(b"\x00\x01")
    b.write_bytes(b"\x00\x02")
    assert compare_files("artifact", "m", a, b, 1.0).detail == "bytes differ"
    c, d = _pair(tmp_path, "broken.json")
    c.write_text("{")
    d.write_text("[]")
    broken = compare_files("artifact", "j", c, d, 1.0)
    assert broken.outcome is Outcome.DIFFERENT
    assert broken.detail.startswith("bytes differ (")
