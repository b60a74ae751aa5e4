"""Call the model the way it was trained: with column names when it knows them."""

from __future__ import annotations

from typing import Any

import numpy as np


class Predictor:
    def __init__(self, model: Any, columns: tuple[str, ...]) -> None:
        self.model = model
        self.columns = list(columns)
        # Estimators fitted on a DataFrame check the names they are given; only they pay for one.
        self.needs_frame = getattr(model, "feature_names_in_", None) is not None
        self._index: Any = None

    def predict(self, matrix: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        if self.needs_frame:
            import pandas as pd  # lazy: only models fitted on a DataFrame need pandas

            if self._index is None:
                # One index of plain str objects, built once and shared by every request's
                # frame: pandas 3 would otherwise turn the names into an Arrow string array
                # for each request (~27 ms the first time, then ~0.1 ms every time).
                self._index = pd.Index(self.columns, dtype=object)
            frame = pd.DataFrame(matrix, columns=self._index, copy=False)
            return np.asarray(self.model.predict(frame))
        return np.asarray(self.model.predict(matrix))
