"""The golden-row check: does the model, loaded here, still give the predictions it gave at save?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from parity.serve.decoder import RequestDecoder
from parity.serve.predictor import Predictor

# Float predictions may differ in the last bits across BLAS builds; anything larger is a change.
RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class GoldenResult:
    ok: bool
    rows: int
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows": self.rows, "reason": self.reason}


def check_golden(
    predictor: Predictor, decoder: RequestDecoder, inputs: dict[str, Any], expected: list[Any]
) -> GoldenResult:
    columns, data = inputs.get("columns"), inputs["data"]
    matrix = decoder.from_trusted_split(columns, data)
    got = predictor.predict(matrix)
    want = np.asarray(expected, dtype=got.dtype if got.dtype.kind != "O" else object)
    if got.shape != want.shape:
        return GoldenResult(
            False, len(data), f"golden predictions have shape {want.shape}, model gives {got.shape}"
        )
    if got.dtype.kind in "fc":
        same = np.isclose(got, want, rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE)
    else:
        same = got == want
    if bool(np.all(same)):
        return GoldenResult(True, len(data))
    flat = np.asarray(same).reshape(len(data), -1).all(axis=1)
    first = int(np.argmin(flat))
    differing = int((~flat).sum())
    return GoldenResult(
        False,
        len(data),
        f"{differing} of {len(data)} golden predictions differ "
        f"(row {first}: stored {want[first].tolist()!r}, now {got[first].tolist()!r})",
    )
