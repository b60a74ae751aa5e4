"""Is a served model still right? Its labelled predictions scored per window, against the
figures its training run logged.

Which metrics: those the training run logged for the model's task. A run's metric counts as the
figure of a metric when its name, lower-cased with ``-``, ``.`` and ``/`` read as ``_``, is
the metric's name or one of its aliases (``acc``; ``f1_score``; ``auc``, ``roc_auc_score``;
``root_mean_squared_error``; ``mean_absolute_error``; ``r2_score``), bare or after a held-out
prefix: ``test_``, then ``val_``/``valid_``/``validation_``, then ``eval_``, then the bare name
is preferred, in that order. Training-set figures (``train_…``) are never used. Classification
metrics (accuracy, precision, recall, f1, roc_auc) make the task classification; otherwise
regression ones (rmse, mae, r2) make it regression.

A metric is degraded when it is worse than the run's figure by more than ``tolerance``,
relative to that figure (for rmse and mae, higher is worse). A window with fewer than
``min_labels`` labelled predictions is not evaluated; roc_auc is evaluated only where the
logged predictions are scores (numbers between 0 and 1 that are not all 0 or 1).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from parity.core.errors import UsageError
from parity.core.feedback import LabelledPrediction

CLASSIFICATION = "classification"
REGRESSION = "regression"
# metric -> (task, aliases, higher is better)
METRICS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "accuracy": (CLASSIFICATION, ("accuracy", "acc"), True),
    "precision": (CLASSIFICATION, ("precision",), True),
    "recall": (CLASSIFICATION, ("recall",), True),
    "f1": (CLASSIFICATION, ("f1", "f1_score"), True),
    "roc_auc": (CLASSIFICATION, ("roc_auc", "auc", "roc_auc_score"), True),
    "rmse": (REGRESSION, ("rmse", "root_mean_squared_error"), False),
    "mae": (REGRESSION, ("mae", "mean_absolute_error"), False),
    "r2": (REGRESSION, ("r2", "r2_score"), True),
}
# Held-out figures first; the bare name last.
PREFIXES = ("test_", "val_", "valid_", "validation_", "eval_", "")
DEFAULT_TOLERANCE = 0.05
MIN_LABELS = 100
OK, DEGRADED, NOT_EVALUATED = "ok", "degraded", "not evaluated"
_SEPARATORS = re.compile(r"[-./]")


@dataclass(frozen=True)
class TrainedFigure:
    metric: str
    key: str  # the run's metric name it was read from
    value: float


def trained_figures(run_metrics: Mapping[str, float | None]) -> dict[str, TrainedFigure]:
    """The run's figure of each metric it logged, by the naming rule above."""
    normalised: dict[str, tuple[str, float]] = {}
    for key, value in run_metrics.items():
        if value is not None and math.isfinite(value):
            normalised[_SEPARATORS.sub("_", key.lower())] = (key, float(value))
    found = {}
    for metric, (_, aliases, _) in METRICS.items():
        for prefix in PREFIXES:
            hit = next((normalised[prefix + a] for a in aliases if prefix + a in normalised), None)
            if hit is not None:
                found[metric] = TrainedFigure(metric, hit[0], hit[1])
                break
    return found


def task_of(figures: Mapping[str, TrainedFigure]) -> str:
    tasks = [METRICS[m][0] for m in figures]
    if CLASSIFICATION in tasks:
        return CLASSIFICATION
    if REGRESSION in tasks:
        return REGRESSION
    raise UsageError(
        "the model's training run logged no metric performance can be compared with",
        hint="log accuracy, precision, recall, f1 or roc_auc (classification), or rmse, mae or"
        " r2 (regression), e.g. val_accuracy, in the run that made the model",
    )


@dataclass(frozen=True)
class MetricCheck:
    name: str
    trained_key: str
    trained: float
    served: float | None  # None: not evaluated here (see ``note``)
    degraded: bool
    note: str = ""

    @property
    def change(self) -> float | None:
        """The served figure relative to the trained one (-0.1: 10 % lower)."""
        if self.served is None or self.trained == 0:
            return None
        return (self.served - self.trained) / abs(self.trained)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trained_key": self.trained_key,
            "trained": self.trained,
            "served": self.served,
            "change": self.change,
            "degraded": self.degraded,
            "note": self.note,
        }


@dataclass(frozen=True)
class WindowCheck:
    start_ms: int
    end_ms: int  # the last labelled prediction's time in it
    labels: int
    evaluated: bool
    metrics: tuple[MetricCheck, ...] = ()
    note: str | None = None  # why a window with enough labels was not evaluated

    @property
    def degraded(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics if m.degraded)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "labels": self.labels,
            "evaluated": self.evaluated,
            "degraded": list(self.degraded),
            "metrics": [m.to_dict() for m in self.metrics],
            "note": self.note,
        }


@dataclass(frozen=True)
class PerformanceReport:
    """The verdict of one performance check of a model version: per window, each metric."""

    model: str  # the version's reference, NAME/VERSION
    run_id: str | None
    task: str
    tolerance: float
    min_labels: int
    labels: int
    windows: tuple[WindowCheck, ...]

    @property
    def evaluated(self) -> bool:
        return any(w.evaluated for w in self.windows)

    @property
    def status(self) -> str:
        if any(w.degraded for w in self.windows):
            return DEGRADED
        return OK if self.evaluated else NOT_EVALUATED

    @property
    def ok(self) -> bool:
        return self.status != DEGRADED

    @property
    def reason(self) -> str | None:
        """Why nothing was evaluated (None when a window was, or only too few labels)."""
        if self.evaluated:
            return None
        return next((w.note for w in self.windows if w.note), None)

    @property
    def degraded(self) -> tuple[str, ...]:
        """``metric (window start)`` for every degraded metric, in window order."""
        return tuple(
            f"{name} in the window from {_iso(w.start_ms)}"
            for w in self.windows
            for name in w.degraded
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "run_id": self.run_id,
            "task": self.task,
            "status": self.status,
            "ok": self.ok,
            "tolerance": self.tolerance,
            "min_labels": self.min_labels,
            "labels": self.labels,
            "degraded": list(self.degraded),
            "windows": [w.to_dict() for w in self.windows],
        }


def split_windows(
    pairs: Sequence[LabelledPrediction], window: str | None
) -> list[list[LabelledPrediction]]:
    """One window of everything; ``N`` labelled predictions a window; or ``30m``/``1h``/``1d``
    of time a window, from the first one's time (empty spans are left out)."""
    if not pairs:
        return []
    if window is None:
        return [list(pairs)]
    if window.isdigit():
        size = int(window)
        if size < 1:
            raise UsageError("--window must be at least 1 label", hint="e.g. --window 500")
        return [list(pairs[i : i + size]) for i in range(0, len(pairs), size)]
    match = re.fullmatch(r"(\d+)([smhd])", window)
    if match is None or int(match[1]) == 0:
        raise UsageError(
            f"cannot read --window {window!r}", hint="use 30m, 1h, 1d, or a number of labels"
        )
    span = int(match[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]] * 1000
    first = pairs[0].time_ms
    buckets: dict[int, list[LabelledPrediction]] = {}
    for pair in sorted(pairs, key=lambda p: p.time_ms):
        buckets.setdefault((pair.time_ms - first) // span, []).append(pair)
    return [buckets[k] for k in sorted(buckets)]


def check_performance(
    model: str,
    run_id: str | None,
    run_metrics: Mapping[str, float | None],
    pairs: Sequence[LabelledPrediction],
    *,
    window: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    min_labels: int = MIN_LABELS,
) -> PerformanceReport:
    """Score the labelled predictions per window against the training run's figures."""
    if not 0 <= tolerance < 1:
        raise UsageError(f"--tolerance must be from 0 to 1 (a share), got {tolerance}")
    figures = trained_figures(run_metrics)
    task = task_of(figures)
    figures = {m: f for m, f in figures.items() if METRICS[m][0] == task}
    windows = []
    for chunk in split_windows(pairs, window):
        start, end = min(p.time_ms for p in chunk), max(p.time_ms for p in chunk)
        if len(chunk) < min_labels:
            windows.append(WindowCheck(start, end, len(chunk), False))
            continue
        try:
            served = _score(task, [p.prediction for p in chunk], [p.label for p in chunk])
        except (TypeError, ValueError, OverflowError) as exc:  # labels the model cannot match
            note = f"the labels cannot be scored against the predictions: {exc}"
            windows.append(WindowCheck(start, end, len(chunk), False, note=note[:300]))
            continue
        checks = tuple(
            _compare(figure, served.get(name), tolerance) for name, figure in figures.items()
        )
        if all(c.served is None for c in checks):  # nothing compared: no verdict, say why
            why = "; ".join(f"{c.name}: {c.note}" for c in checks)
            note = f"no metric the run logged could be computed here ({why})"
            windows.append(WindowCheck(start, end, len(chunk), False, checks, note))
            continue
        windows.append(WindowCheck(start, end, len(chunk), True, checks))
    return PerformanceReport(model, run_id, task, tolerance, min_labels, len(pairs), tuple(windows))


def _compare(figure: TrainedFigure, served: float | str | None, tolerance: float) -> MetricCheck:
    if served is None or isinstance(served, str):
        note = served if isinstance(served, str) else "not computed"
        return MetricCheck(figure.metric, figure.key, figure.value, None, False, note)
    higher_is_better = METRICS[figure.metric][2]
    worse_by = (figure.value - served) if higher_is_better else (served - figure.value)
    scale = abs(figure.value) or 1.0
    return MetricCheck(
        figure.metric, figure.key, figure.value, served, worse_by / scale > tolerance
    )


def _score(task: str, predictions: list[Any], labels: list[Any]) -> dict[str, float | str]:
    """Each metric of ``task`` over the pairs (a string says why one was not computed)."""
    from sklearn import metrics  # lazy: scikit-learn loads only when performance is checked

    if task == REGRESSION:
        try:
            y_pred = [float(p) for p in predictions]
            y_true = [float(v) for v in labels]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"a regression model's labels must be numbers ({exc})") from exc
        if not all(math.isfinite(v) for v in (*y_pred, *y_true)):
            raise ValueError("a label or a prediction is not a finite number")
        return {
            "rmse": math.sqrt(metrics.mean_squared_error(y_true, y_pred)),
            "mae": float(metrics.mean_absolute_error(y_true, y_pred)),
            "r2": float(metrics.r2_score(y_true, y_pred)),
        }
    scores = _scores(predictions, labels)
    classes = [int(s >= 0.5) for s in scores] if scores is not None else predictions
    y_true, y_pred = _comparable(labels, classes)
    kinds = set(y_true) | set(y_pred)
    binary = len(kinds) <= 2 and kinds <= {0, 1}
    average = "binary" if binary else "macro"
    found: dict[str, float | str] = {
        "accuracy": float(metrics.accuracy_score(y_true, y_pred)),
        "precision": float(
            metrics.precision_score(y_true, y_pred, average=average, zero_division=0)
        ),
        "recall": float(metrics.recall_score(y_true, y_pred, average=average, zero_division=0)),
        "f1": float(metrics.f1_score(y_true, y_pred, average=average, zero_division=0)),
    }
    if scores is None:
        found["roc_auc"] = "the logged predictions are classes, not scores"
    elif len(set(y_true)) < 2:
        found["roc_auc"] = "the labels hold one class only"
    else:
        found["roc_auc"] = float(metrics.roc_auc_score(y_true, scores))
    return found


def _scores(predictions: list[Any], labels: list[Any]) -> list[float] | None:
    """The predictions as scores of class 1, when they are probabilities and labels 0/1."""
    numeric = all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in predictions)
    if not numeric or all(p in (0.0, 1.0) for p in predictions):
        return None
    if not all(_as_int(v) in (0, 1) for v in labels):
        return None
    return [float(p) for p in predictions]


def _comparable(labels: list[Any], predictions: list[Any]) -> tuple[list[Any], list[Any]]:
    """Labels and predictions in one type: whole numbers when both are, else strings (a CSV
    label ``1`` matches a prediction ``1``; ``"yes"`` matches ``"yes"``)."""
    true_ints, predicted_ints = [_as_int(v) for v in labels], [_as_int(v) for v in predictions]
    if None not in true_ints and None not in predicted_ints:
        return true_ints, predicted_ints
    if (None in true_ints) != (None in predicted_ints):  # classes of two kinds: no match
        kind = "whole numbers" if None not in true_ints else "text"
        other = "text" if kind == "whole numbers" else "whole numbers"
        raise ValueError(f"the labels are {kind} but the predictions are {other}")
    return [str(v) for v in labels], [str(v) for v in predictions]


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):  # "1" and "1.0" are the class 1
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if number.is_integer() else None
    return None


def _iso(time_ms: int) -> str:
    moment = dt.datetime.fromtimestamp(time_ms / 1000, dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
