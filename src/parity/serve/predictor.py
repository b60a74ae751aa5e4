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

    def predict(self, matrix: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        if self.needs_frame:
            import pandas as pd

            return np.asarray(self.model.predict(pd.DataFrame(matrix, columns=self.columns)))
        return np.asarray(self.model.predict(matrix))
