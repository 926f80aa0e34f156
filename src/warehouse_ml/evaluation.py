"""Evaluation tables a BI tool charts directly: curves, thresholds, confusion, importance.

The peers' functions (BigQuery ML ``ML.ROC_CURVE`` / ``ML.GLOBAL_EXPLAIN``, Snowflake
``!SHOW_THRESHOLD_METRICS`` / ``!SHOW_CONFUSION_MATRIX`` / ``!SHOW_FEATURE_IMPORTANCE``) as
tables. :func:`evaluate_models` scores every evaluation set of each model's spec with the
versions of ``ml_model_aliases`` (the champion, and the challenger when there is one) and returns
one long table, :data:`EVALUATION_SCHEMA`: one row per (model, version, dataset, section, point,
measure). The SQL models of ``models/ml/evaluation/`` pivot it into one table per section.

Sections:

``roc``
    ROC curve points (``threshold``, ``false_positive_rate``, ``true_positive_rate``), sklearn's
    ``roc_curve`` with intermediate points dropped, then thinned to at most :data:`MAX_CURVE_POINTS`
    (first and last kept).
``pr``
    Precision-recall curve points (``threshold``, ``precision``, ``recall``), thinned the same way.
``threshold``
    :data:`THRESHOLD_RATES` rows: for predicted positive rate 1 %, 2 %, ..., 100 % (by weight), the
    score at that rate (``threshold``: rows with ``score >= threshold`` are predicted positive) and
    ``predicted_positive_rate``, ``precision``, ``recall``, ``f1``, ``lift`` at it. Rates, not a
    0..1 grid: CTR scores sit near 0.02, where a 0.01-step grid has two useful rows.
``confusion``
    Four cells (``actual``, ``predicted``, ``row_count``, ``weight``, ``threshold``) at the
    version's *chosen threshold*: the one that maximises F1 on the spec's promotion dataset
    (``promotion.dataset``, the set versions are judged on), applied unchanged to every dataset.
    ``subject`` names the dataset it was chosen on.
``permutation_importance``
    Per feature (``subject``): drop in ROC AUC when the feature is permuted
    (``sklearn.inspection.permutation_importance``, :data:`PERMUTATION_REPEATS` repeats, the spec's
    ``random_state``, at most :data:`MAX_PERMUTATION_ROWS` rows drawn with it, the set's weights):
    ``importance_mean``, ``importance_std``, ``baseline``. Every model type.
``coefficient``
    Linear models only, dataset ``training`` (they belong to the fit): per term of the fitted
    logistic regression (``subject``: the transformed feature, ``placement_feed``; numeric features
    standardised) its ``coefficient``, and ``(intercept)``.
``score_distribution``
    :data:`SCORE_BINS` equal-width bins between the lowest and highest score of the version's
    evaluation sets (``bin_lower``, ``bin_upper``, ``row_count``, ``weight_share``): the
    evaluation side of ``ml_model_score_distribution`` (scored population vs evaluation set).

Every figure is a function of the rows in their canonical order
(:func:`warehouse_ml.lifecycle.evaluation_rows`) and of fixed seeds, so a rebuild gives the same
rows, and so does Spark.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.inspection import permutation_importance
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve
from threadpoolctl import threadpool_limits

from warehouse_ml import engine, lifecycle, promotion, registry, specs, training
from warehouse_ml.specs import ModelSpec

EVALUATION_SCHEMA = pa.schema(
    [
        pa.field("model_name", pa.string(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("section", pa.string(), nullable=False),
        pa.field("point", pa.int64(), nullable=False),
        pa.field("subject", pa.string()),
        pa.field("measure", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
    ]
)
"""Columns of ``ml_model_evaluation_rows``; ``point`` numbers the rows of a section from 1."""

SECTIONS = (
    "roc",
    "pr",
    "threshold",
    "confusion",
    "permutation_importance",
    "coefficient",
    "score_distribution",
)
MAX_CURVE_POINTS = 200
THRESHOLD_RATES = 100
SCORE_BINS = 20
PERMUTATION_REPEATS = 5
MAX_PERMUTATION_ROWS = 100_000
TRAINING_DATASET = "training"
"""The ``dataset`` of the coefficient rows: a property of the fit, not of an evaluation set."""


# --------------------------------------------------------------------------- figures


def thin(n: int, max_points: int = MAX_CURVE_POINTS) -> np.ndarray:
    """At most ``max_points`` evenly spaced indices of ``range(n)``, first and last included."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(np.int64))


def roc_points(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> list[dict[str, float]]:
    """ROC curve points; the first point's threshold is 1 (sklearn's is infinite)."""
    fpr, tpr, thresholds = roc_curve(y, p, sample_weight=w, drop_intermediate=True)
    thresholds = np.minimum(thresholds, 1.0)
    return [
        {
            "threshold": float(thresholds[i]),
            "false_positive_rate": float(fpr[i]),
            "true_positive_rate": float(tpr[i]),
        }
        for i in thin(len(fpr))
    ]


def pr_points(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> list[dict[str, float]]:
    """Precision-recall points by increasing threshold; the last (recall 0) has threshold 1."""
    precision, recall, thresholds = precision_recall_curve(y, p, sample_weight=w)
    thresholds = np.append(thresholds, 1.0)
    return [
        {
            "threshold": float(thresholds[i]),
            "precision": float(precision[i]),
            "recall": float(recall[i]),
        }
        for i in thin(len(precision))
    ]


def at_threshold(y: np.ndarray, p: np.ndarray, w: np.ndarray, threshold: float) -> dict[str, float]:
    """Weighted confusion figures when rows with ``p >= threshold`` are predicted positive."""
    predicted = p >= threshold
    positives = float((w * y).sum())
    total = float(w.sum())
    tp = float((w * y)[predicted].sum())
    predicted_weight = float(w[predicted].sum())
    precision = tp / predicted_weight if predicted_weight > 0 else float("nan")
    recall = tp / positives if positives > 0 else float("nan")
    f1 = (
        2 * precision * recall / (precision + recall)
        if predicted_weight > 0 and positives > 0 and precision + recall > 0
        else 0.0
    )
    base_rate = positives / total
    return {
        "threshold": float(threshold),
        "predicted_positive_rate": predicted_weight / total,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "lift": precision / base_rate if base_rate > 0 else float("nan"),
    }


def threshold_rows(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> list[dict[str, float]]:
    """One row per predicted positive rate k / :data:`THRESHOLD_RATES` (k = 1, 2, ...).

    The threshold for rate ``r`` is the highest score whose rows, with every higher-scored row,
    hold at least ``r`` of the weight (ties all count, so the realised rate may exceed ``r``).
    """
    order = np.argsort(-p, kind="stable")
    share = np.cumsum(w[order]) / w.sum()
    rows = []
    for k in range(1, THRESHOLD_RATES + 1):
        index = min(int(np.searchsorted(share, k / THRESHOLD_RATES - 1e-12)), len(p) - 1)
        rows.append(at_threshold(y, p, w, float(p[order][index])))
    return rows


def best_f1_threshold(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> float:
    """The score threshold with the highest F1 (the lowest such threshold on ties)."""
    precision, recall, thresholds = precision_recall_curve(y, p, sample_weight=w)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return float(thresholds[int(np.argmax(f1[:-1]))])


def confusion_cells(
    y: np.ndarray, p: np.ndarray, w: np.ndarray, threshold: float
) -> list[dict[str, float]]:
    """The four cells (actual 0/1 x predicted 0/1) at ``threshold``: rows and weight."""
    predicted = p >= threshold
    cells = []
    for actual in (0, 1):
        for guess in (False, True):
            mask = (y == actual) & (predicted == guess)
            cells.append(
                {
                    "actual": float(actual),
                    "predicted": float(guess),
                    "row_count": float(mask.sum()),
                    "weight": float(w[mask].sum()),
                    "threshold": threshold,
                }
            )
    return cells


def score_edges(scores: list[np.ndarray]) -> np.ndarray:
    """:data:`SCORE_BINS` + 1 equal-width bin edges from the lowest to the highest score of all
    ``scores`` (one array per evaluation set), so every set of a version shares its bins."""
    low = float(min(p.min() for p in scores))
    high = float(max(p.max() for p in scores))
    return np.linspace(low, max(high, low + 1e-9), SCORE_BINS + 1)


def score_bins(p: np.ndarray, w: np.ndarray, edges: np.ndarray) -> list[dict[str, float]]:
    """Rows and weight share per bin of ``edges``; a score outside them counts in the end bin.

    The bin of a score is ``floor((score - low) / width) + 1`` clamped to ``1..SCORE_BINS``, the
    formula ``ml_model_score_distribution`` applies to the scored population in SQL.
    """
    width = (edges[-1] - edges[0]) / SCORE_BINS
    index = np.clip(np.floor((p - edges[0]) / width).astype(np.int64), 0, SCORE_BINS - 1)
    total = float(w.sum())
    return [
        {
            "bin_lower": float(edges[k]),
            "bin_upper": float(edges[k + 1]),
            "row_count": float((index == k).sum()),
            "weight_share": float(w[index == k].sum()) / total,
        }
        for k in range(SCORE_BINS)
    ]


class _Scored:
    """A loaded version as an sklearn-style estimator over prepared features (for permutation).

    ``predict_proba`` applies the version's recalibration, so the scores are the ones it serves.
    """

    def __init__(self, model: registry.LoadedModel) -> None:
        self.model = model

    def fit(self, *_: Any) -> _Scored:  # permutation_importance never fits; sklearn checks it
        return self

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        scores = self.model.pipeline.predict_proba(features)[:, 1]
        rate = self.model.negative_downsampling_rate
        if rate is not None:
            scores = training.recalibrate_downsampled(scores, rate)
        return np.column_stack([1 - scores, scores])


def _roc_auc_scorer(estimator: _Scored, features: pd.DataFrame, y: Any, sample_weight=None):
    return roc_auc_score(y, estimator.predict_proba(features)[:, 1], sample_weight=sample_weight)


def importance_rows(
    model: registry.LoadedModel,
    frame: pd.DataFrame,
    y: np.ndarray,
    w: np.ndarray,
    random_state: int,
) -> list[tuple[str, dict[str, float]]]:
    """Permutation importance (drop in ROC AUC) of every feature of ``model`` on ``frame``."""
    features = training.prepare_features(
        training.to_pandas(frame, model.features.columns), model.features
    )
    estimator = _Scored(model)
    with threadpool_limits(limits=1):
        baseline = _roc_auc_scorer(estimator, features, y, w)
        result = permutation_importance(
            estimator,
            features,
            y,
            scoring=_roc_auc_scorer,
            n_repeats=PERMUTATION_REPEATS,
            random_state=random_state,
            sample_weight=w,
            max_samples=min(1.0, MAX_PERMUTATION_ROWS / len(features)),
        )
    return [
        (
            name,
            {
                "importance_mean": float(result.importances_mean[i]),
                "importance_std": float(result.importances_std[i]),
                "baseline": float(baseline),
            },
        )
        for i, name in enumerate(features.columns)
    ]


def coefficient_rows(model: registry.LoadedModel) -> list[tuple[str, dict[str, float]]]:
    """The fitted logistic regression's coefficient per term, and ``(intercept)``."""
    estimator = model.pipeline.named_steps["model"]
    names = model.pipeline.named_steps["preprocess"].get_feature_names_out()
    rows = [
        (str(name), {"coefficient": float(value)})
        for name, value in zip(names, estimator.coef_[0], strict=True)
    ]
    rows.append(("(intercept)", {"coefficient": float(estimator.intercept_[0])}))
    return rows


# --------------------------------------------------------------------------- the table


def _long(
    base: Mapping[str, str],
    section: str,
    points: list[dict[str, float]] | list[tuple[str | None, dict[str, float]]],
) -> list[dict[str, Any]]:
    rows = []
    for number, point in enumerate(points, start=1):
        subject, values = point if isinstance(point, tuple) else (None, point)
        for measure, value in values.items():
            rows.append(
                {
                    **base,
                    "section": section,
                    "point": number,
                    "subject": subject,
                    "measure": measure,
                    "value": value,
                }
            )
    return rows


def evaluate_version(
    spec: ModelSpec, model: registry.LoadedModel, frames: Mapping[str, pd.DataFrame]
) -> list[dict[str, Any]]:
    """Every section's rows for one version on the spec's evaluation sets (empty ones skipped).

    ``frames`` maps each evaluation set's name to its rows
    (:func:`warehouse_ml.lifecycle.evaluation_rows`).
    """
    scored = {}
    for evaluation in spec.evaluation_sets:
        frame = frames[evaluation.name]
        if len(frame) == 0:
            continue
        y = frame[spec.label].astype("int64").to_numpy()
        w = (
            frame[evaluation.weight_column].to_numpy(dtype=np.float64)
            if evaluation.weight_column
            else np.ones(len(frame))
        )
        scored[evaluation.name] = (frame, y, promotion.predict(model, frame), w)
    chosen_on = spec.promotion.dataset
    threshold = None
    if chosen_on in scored and 0 < scored[chosen_on][1].sum() < len(scored[chosen_on][1]):
        _, y, p, w = scored[chosen_on]
        threshold = best_f1_threshold(y, p, w)
    rows: list[dict[str, Any]] = []
    version = {"model_name": spec.model_name, "model_version": model.model_version}
    edges = score_edges([p for _, _, p, _ in scored.values()]) if scored else None
    for name, (frame, y, p, w) in scored.items():
        base = {**version, "dataset": name}
        rows.extend(_long(base, "score_distribution", score_bins(p, w, edges)))
        if not 0 < y.sum() < len(y):  # one class: no curve, threshold or AUC
            continue
        y, p, w = y.astype(np.float64), np.asarray(p, dtype=np.float64), w
        rows.extend(_long(base, "roc", roc_points(y, p, w)))
        rows.extend(_long(base, "pr", pr_points(y, p, w)))
        rows.extend(_long(base, "threshold", threshold_rows(y, p, w)))
        if threshold is not None:
            cells = [(chosen_on, cell) for cell in confusion_cells(y, p, w, threshold)]
            rows.extend(_long(base, "confusion", cells))
        importance = importance_rows(model, frame, y.astype(np.int64), w, spec.random_state)
        rows.extend(_long(base, "permutation_importance", importance))
    if spec.algorithm == "logistic_regression":
        base = {**version, "dataset": TRAINING_DATASET}
        rows.extend(_long(base, "coefficient", coefficient_rows(model)))
    return rows


def evaluated_versions(aliases: Any, model_name: str) -> list[str]:
    """The versions of ``model_name`` in ``ml_model_aliases`` (champion first), each once."""
    table = engine.collect(
        engine.where(aliases, "model_name", model_name), promotion.MAX_DECISION_ROWS
    ).to_pylist()
    ordered = sorted(table, key=lambda row: (row["alias"] != promotion.CHAMPION, row["alias"]))
    versions: list[str] = []
    for row in ordered:
        if row["model_version"] is not None and row["model_version"] not in versions:
            versions.append(str(row["model_version"]))
    return versions


def evaluate_models(
    specs_table: Any,
    registries: Mapping[str, Any],
    aliases: Any,
    relations: Mapping[str, Any],
) -> pa.Table:
    """The evaluation rows of every model of ``registries``, :data:`EVALUATION_SCHEMA`.

    Parameters
    ----------
    specs_table : table
        ``ml_model_specs``.
    registries : mapping of model name to table
        Each model's registry (``{"churn": dbt.ref("ml_churn_model"), ...}``).
    aliases : table
        ``ml_model_aliases``: its versions are the ones evaluated.
    relations : mapping of relation name to table
        The model file's refs of the evaluation sets, by name: exactly the relations the specs'
        ``evaluation_sets`` name.

    Raises
    ------
    ModelSpecError
        If ``relations`` are not the relations the specs' evaluation sets name.
    """
    model_specs = [specs.from_table(specs_table, name) for name in sorted(registries)]
    expected = sorted({e.relation for spec in model_specs for e in spec.evaluation_sets})
    specs.check_refs(
        "ml_model_evaluation_rows", relations, expected, "var('ml_models').<model>.evaluation_sets"
    )
    rows: list[dict[str, Any]] = []
    for spec in model_specs:
        frames = {
            e.name: lifecycle.evaluation_rows(spec, e, relations[e.relation])
            for e in spec.evaluation_sets
        }
        for version in evaluated_versions(aliases, spec.model_name):
            model = registry.load_model(registries[spec.model_name], spec.model_name, version)
            rows.extend(evaluate_version(spec, model, frames))
    return pa.Table.from_pylist(rows, schema=EVALUATION_SCHEMA)
