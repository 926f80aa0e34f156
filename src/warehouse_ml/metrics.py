"""Evaluation metrics for binary classifiers, in long format.

One row per (model_name, model_version, dataset, metric, bin): scalar metrics have
``bin = None``; reliability bins and deciles number their bins from 1. Deciles are by
descending score (decile 1 holds the highest predictions), split by cumulative weight.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

METRICS_SCHEMA = pa.schema(
    [
        pa.field("model_name", pa.string(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("bin", pa.int64()),
        pa.field("value", pa.float64()),
    ]
)

HIGHER_IS_BETTER: dict[str, bool] = {
    "roc_auc": True,
    "pr_auc": True,
    "log_loss": False,
    "brier": False,
    "normalized_entropy": False,
}
"""The scalar metrics of :func:`scalar_metrics` that rank models, and whether a higher value is
better. The one list of comparable metric names: a promotion rule
(``ml_models.<model>.promotion.metric``) must name one of them."""

_EPS = 1e-15


def _entropy(rate: float) -> float:
    rate = min(max(rate, _EPS), 1 - _EPS)
    return float(-(rate * np.log(rate) + (1 - rate) * np.log(1 - rate)))


def _as_arrays(
    y_true: Any, y_score: Any, sample_weight: Any | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_score, dtype=np.float64)
    w = np.ones_like(p) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if not (y.shape == p.shape == w.shape) or y.ndim != 1:
        raise ValueError(
            f"metrics: y_true {y.shape}, y_score {p.shape} and sample_weight {w.shape} "
            "must be 1-d arrays of the same length"
        )
    if len(y) == 0:
        raise ValueError("metrics: the evaluation set is empty; check the evaluation window")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("metrics: y_true must be 0/1")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("metrics: y_score must be probabilities in [0, 1] without nulls")
    return y, p, w


def scalar_metrics(y_true: Any, y_score: Any, sample_weight: Any | None = None) -> dict[str, float]:
    """Scalar metrics of predicted probabilities.

    Returns
    -------
    dict
        ``roc_auc``, ``pr_auc`` (average precision), ``log_loss``, ``brier``,
        ``normalized_entropy`` (log loss over the entropy of the base rate),
        ``calibration`` (mean predicted over observed rate), ``calibration_standard_error``
        (:func:`calibration_standard_error`), ``mean_predicted``, ``observed_rate``,
        ``row_count`` and ``weight_sum``. AUCs are NaN when the evaluation set holds a single
        class.
    """
    y, p, w = _as_arrays(y_true, y_score, sample_weight)
    weight_sum = float(w.sum())
    observed = float((w * y).sum() / weight_sum)
    predicted = float((w * p).sum() / weight_sum)
    both_classes = 0.0 < observed < 1.0
    clipped = np.clip(p, _EPS, 1 - _EPS)
    loss = float(log_loss(y, clipped, sample_weight=w, labels=[0, 1]))
    return {
        "roc_auc": float(roc_auc_score(y, p, sample_weight=w)) if both_classes else float("nan"),
        "pr_auc": (
            float(average_precision_score(y, p, sample_weight=w)) if both_classes else float("nan")
        ),
        "log_loss": loss,
        "brier": float(brier_score_loss(y, p, sample_weight=w)),
        "normalized_entropy": loss / _entropy(observed),
        "calibration": predicted / observed if observed > 0 else float("nan"),
        "calibration_standard_error": calibration_standard_error(p, w),
        "mean_predicted": predicted,
        "observed_rate": observed,
        "row_count": float(len(y)),
        "weight_sum": weight_sum,
    }


def calibration_standard_error(y_score: Any, sample_weight: Any | None = None) -> float:
    """How far mean predicted / observed strays from 1 by the labels' noise alone.

    If the scores were the true probabilities, each label would be Bernoulli(p) and the observed
    (weighted) positives would scatter around the expected ones with standard deviation
    ``sqrt(sum w^2 p (1 - p))``: mean predicted / observed of a perfectly calibrated model is 1
    within ``sqrt(sum w^2 p (1 - p)) / sum w p`` (one standard error, to first order). A
    calibration further from 1 than about twice this is the model's; closer, the evaluation set
    is too small to tell (the CTR evaluation day's 495 clicks give about 0.042).
    """
    p = np.asarray(y_score, dtype=np.float64)
    w = np.ones_like(p) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    expected = float((w * p).sum())
    if expected <= 0:
        return float("nan")
    return float(np.sqrt((w * w * p * (1.0 - p)).sum()) / expected)


def reliability_bins(
    y_true: Any, y_score: Any, sample_weight: Any | None = None, n_bins: int = 10
) -> list[tuple[str, int, float]]:
    """Reliability diagram: equal-width probability bins.

    Bin ``k`` (1-based) holds scores in ``[(k-1)/n, k/n)`` (the last bin includes 1). For each
    non-empty bin: ``reliability_mean_predicted``, ``reliability_observed_rate`` and
    ``reliability_weight`` (the bin's total weight).
    """
    y, p, w = _as_arrays(y_true, y_score, sample_weight)
    index = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    rows: list[tuple[str, int, float]] = []
    for k in range(n_bins):
        mask = index == k
        bin_weight = float(w[mask].sum())
        if bin_weight <= 0:
            continue
        rows.append(("reliability_mean_predicted", k + 1, float((w * p)[mask].sum() / bin_weight)))
        rows.append(("reliability_observed_rate", k + 1, float((w * y)[mask].sum() / bin_weight)))
        rows.append(("reliability_weight", k + 1, bin_weight))
    return rows


def deciles(y_score: Any, sample_weight: Any | None = None, n: int = 10) -> np.ndarray:
    """Decile (1 = highest scores) of each row, split by cumulative weight.

    A row's decile is set by the weight-midpoint of its position in descending score order,
    so with unit weights and ``10 k`` rows every decile holds ``k`` rows.
    """
    p = np.asarray(y_score, dtype=np.float64)
    w = np.ones_like(p) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    order = np.argsort(-p, kind="stable")
    cumulative = np.cumsum(w[order])
    midpoint = (cumulative - w[order] / 2) / cumulative[-1]
    result = np.empty(len(p), dtype=np.int64)
    result[order] = np.minimum((midpoint * n).astype(np.int64), n - 1) + 1
    return result


def lift_capture(
    y_true: Any, y_score: Any, sample_weight: Any | None = None, n: int = 10
) -> list[tuple[str, int, float]]:
    """Lift and capture per decile.

    For decile ``d``: ``lift`` = positive rate in the decile over the overall rate;
    ``capture`` = share of all positives in the decile; ``cumulative_capture`` = share of all
    positives in deciles 1..d.
    """
    y, p, w = _as_arrays(y_true, y_score, sample_weight)
    decile = deciles(p, w, n)
    positives = float((w * y).sum())
    overall = positives / float(w.sum())
    rows: list[tuple[str, int, float]] = []
    cumulative = 0.0
    for d in range(1, n + 1):
        mask = decile == d
        bin_weight = float(w[mask].sum())
        bin_positives = float((w * y)[mask].sum())
        cumulative += bin_positives
        rate = bin_positives / bin_weight if bin_weight > 0 else float("nan")
        rows.append(("lift", d, rate / overall if overall > 0 else float("nan")))
        rows.append(("capture", d, bin_positives / positives if positives > 0 else float("nan")))
        rows.append(
            ("cumulative_capture", d, cumulative / positives if positives > 0 else float("nan"))
        )
    return rows


def evaluate(
    y_true: Any,
    y_score: Any,
    *,
    model_name: str,
    model_version: str,
    dataset: str,
    sample_weight: Any | None = None,
) -> list[dict[str, Any]]:
    """All metrics for one model on one dataset, as long-format rows.

    Returns
    -------
    list of dict
        Keys ``model_name``, ``model_version``, ``dataset``, ``metric``, ``bin``, ``value``.
    """
    base = {"model_name": model_name, "model_version": model_version, "dataset": dataset}
    rows = [
        {**base, "metric": metric, "bin": None, "value": value}
        for metric, value in scalar_metrics(y_true, y_score, sample_weight).items()
    ]
    for metric, bin_number, value in reliability_bins(y_true, y_score, sample_weight):
        rows.append({**base, "metric": metric, "bin": bin_number, "value": value})
    for metric, bin_number, value in lift_capture(y_true, y_score, sample_weight):
        rows.append({**base, "metric": metric, "bin": bin_number, "value": value})
    return rows


def metrics_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Long-format metric rows as an Arrow table with :data:`METRICS_SCHEMA`."""
    return pa.Table.from_pylist([dict(r) for r in rows], schema=METRICS_SCHEMA)
