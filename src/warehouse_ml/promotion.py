"""Champion and challenger: which registered version serves, decided once per new version.

Every model has one serving version, the *champion*. A version newly trained from the current
spec (the *candidate*) replaces it only if, scored on the same rows of the evaluation set the
spec's promotion rule names, its metric is not worse than the champion's by more than the
rule's margin (:func:`is_promoted`; whether higher is better comes from
:data:`warehouse_ml.metrics.HIGHER_IS_BETTER`). Otherwise it stays a *challenger* and the
champion keeps serving.

Each decision is one row of the decision log ``ml_model_decisions`` (:data:`DECISIONS_SCHEMA`),
appended by :func:`decide_models`; a build that trains nothing new appends nothing, so the log,
and the alias table ``ml_model_aliases`` derived from it in SQL, are unchanged. Scorers read the
serving version from the alias table with :func:`champion_version`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from threadpoolctl import threadpool_limits

from warehouse_ml import engine, lifecycle, metrics, registry, specs, training
from warehouse_ml.errors import (
    FeatureTypeError,
    MissingFeatureError,
    ModelNotRegisteredError,
)
from warehouse_ml.specs import ModelSpec, PromotionSpec

CHAMPION = "champion"
CHALLENGER = "challenger"

FIRST_VERSION = "first_version"
PROMOTED = "promoted"
KEPT = "kept"
RESOLVED_BY = (FIRST_VERSION, PROMOTED, KEPT)
"""How the decision log resolves a candidate (``ml_model_aliases`` adds ``pinned`` and
``rollback``, which come from vars, not from a decision)."""

DECISIONS_SCHEMA = pa.schema(
    [
        pa.field("model_name", pa.string(), nullable=False),
        pa.field("decision_number", pa.int64(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("alias", pa.string(), nullable=False),
        pa.field("is_serving", pa.bool_(), nullable=False),
        pa.field("decided_at", pa.timestamp("us"), nullable=False),
        pa.field("resolved_by", pa.string(), nullable=False),
        pa.field("metric_name", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("model_metric", pa.float64()),
        pa.field("champion_version", pa.string()),
        pa.field("champion_metric", pa.float64()),
        pa.field("margin", pa.float64(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
    ]
)
"""Columns of ``ml_model_decisions``: one row per decision, numbered per model from 1.
``champion_version`` / ``champion_metric``: the champion the candidate was compared with (null
for the first version)."""

_REGISTRY_COLUMNS = ["model_name", "model_version", "trained_at", "spec_fingerprint"]
MAX_DECISION_ROWS = 100_000


# --------------------------------------------------------------------------- the rule


def is_promoted(candidate_metric: float, champion_metric: float, rule: PromotionSpec) -> bool:
    """True when the candidate is not worse than the champion by more than ``rule.margin``.

    Higher-is-better metrics (ROC AUC): ``candidate >= champion - margin``; lower-is-better
    metrics (normalized entropy): ``candidate <= champion + margin``.
    """
    if rule.higher_is_better:
        return candidate_metric >= champion_metric - rule.margin
    return candidate_metric <= champion_metric + rule.margin


# --------------------------------------------------------------------------- scoring


def predict(model: registry.LoadedModel, frame: pd.DataFrame) -> np.ndarray:
    """Probabilities of ``model`` for ``frame``, recalibrated as the version serves.

    The rate is the version's registered ``negative_downsampling_rate`` (the spec's
    recalibration when it was trained), so a version is judged on the scores it would serve.

    Raises
    ------
    MissingFeatureError, FeatureTypeError
        If ``frame`` lacks a feature of the version or holds it with another type.
    """
    features = training.prepare_features(
        training.to_pandas(frame, model.features.columns), model.features
    )
    with threadpool_limits(limits=1):
        scores = model.pipeline.predict_proba(features)[:, 1]
    rate = model.negative_downsampling_rate
    return training.recalibrate_downsampled(scores, rate) if rate is not None else scores


def version_metric(
    spec: ModelSpec, model: registry.LoadedModel, frame: pd.DataFrame
) -> float | None:
    """The promotion metric of ``model`` on the rows of the promotion evaluation set.

    Returns ``None`` when it is undefined: no rows, or NaN (a ROC AUC on a single class).
    """
    if len(frame) == 0:
        return None
    evaluation = spec.promotion_evaluation
    weight = (
        frame[evaluation.weight_column].to_numpy(dtype=np.float64)
        if evaluation.weight_column
        else None
    )
    value = metrics.scalar_metrics(
        frame[spec.label].astype("int64").to_numpy(), predict(model, frame), weight
    )[spec.promotion.metric]
    return None if math.isnan(value) else float(value)


# --------------------------------------------------------------------------- the log


def candidate_version(spec: ModelSpec, registry_table: Any) -> str:
    """The newest registered version trained from the spec's current ``spec_fingerprint``.

    Newest: latest ``trained_at``, then the greatest ``model_version``. Only the four
    version columns leave the engine (no artifact bytes).

    Raises
    ------
    ModelNotRegisteredError
        If no registered version was trained from the current spec.
    """
    table = engine.select(
        engine.where(registry_table, "model_name", spec.model_name), _REGISTRY_COLUMNS
    )
    rows = [
        row
        for row in engine.collect(table, registry.MAX_REGISTRY_ROWS).to_pylist()
        if row["spec_fingerprint"] == spec.spec_fingerprint
    ]
    if not rows:
        raise ModelNotRegisteredError(
            f"no version of model '{spec.model_name}' in ml_{spec.model_name}_model was trained "
            f"from the current spec (spec_fingerprint {spec.spec_fingerprint} in ml_model_specs); "
            f"build ml_{spec.model_name}_model to train one "
            f"(dbt build --select ml_{spec.model_name}_model+)"
        )
    newest = max(rows, key=lambda row: (row["trained_at"], row["model_version"]))
    return str(newest["model_version"])


def history(decided: Any | None, model_name: str) -> list[dict[str, Any]]:
    """The decisions of ``model_name`` in the log (``None``: not built yet), oldest first."""
    if decided is None:
        return []
    rows = engine.collect(engine.where(decided, "model_name", model_name), MAX_DECISION_ROWS)
    return sorted(rows.to_pylist(), key=lambda row: row["decision_number"])


def champion_of(decisions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The latest serving decision (the log's champion), or ``None``."""
    serving = [row for row in decisions if row["is_serving"]]
    return serving[-1] if serving else None


def needs_decision(decisions: list[dict[str, Any]], candidate: str) -> bool:
    """False when the candidate is the champion or the latest decided version already.

    So a rebuild with nothing new appends nothing. A candidate decided earlier but overtaken
    since (a spec change undone) is decided again, against the champion of today.
    """
    if not decisions:
        return True
    champion = champion_of(decisions)
    return candidate not in (decisions[-1]["model_version"], champion and champion["model_version"])


def decide(
    spec: ModelSpec,
    registry_table: Any,
    evaluation_relation: Any,
    decided: Any | None,
    decided_at: datetime,
) -> list[dict[str, Any]]:
    """The decision on the model's candidate: no row, or one row of :data:`DECISIONS_SCHEMA`.

    Parameters
    ----------
    spec : ModelSpec
    registry_table : table
        The model's registry (``ml_<model>_model``).
    evaluation_relation : table
        The relation of the promotion evaluation set (``spec.promotion_evaluation.relation``);
        its ``split`` rows when the set names one, bounded by ``max_training_rows``
        (:func:`warehouse_ml.lifecycle.evaluation_rows`).
    decided : table or None
        The decision log so far (``dbt.this``), ``None`` on the first build.
    decided_at : datetime
        Stamped on the new row (naive UTC).
    """
    candidate = candidate_version(spec, registry_table)
    decisions = history(decided, spec.model_name)
    if not needs_decision(decisions, candidate):
        return []
    rule = spec.promotion
    frame = lifecycle.evaluation_rows(spec, spec.promotion_evaluation, evaluation_relation)
    candidate_metric = version_metric(
        spec, registry.load_model(registry_table, spec.model_name, candidate), frame
    )
    row: dict[str, Any] = {
        "model_name": spec.model_name,
        "decision_number": len(decisions) + 1,
        "model_version": candidate,
        "decided_at": decided_at,
        "metric_name": rule.metric,
        "dataset": rule.dataset,
        "model_metric": candidate_metric,
        "champion_version": None,
        "champion_metric": None,
        "margin": rule.margin,
    }
    champion = champion_of(decisions)
    if champion is None:
        return [
            _resolved(
                row, FIRST_VERSION, "the first version decided on: it serves (nothing to compare)"
            )
        ]
    row["champion_version"] = champion["model_version"]
    where = f"{rule.dataset} ({spec.promotion_evaluation.relation})"
    try:
        champion_model = registry.load_model(
            registry_table, spec.model_name, champion["model_version"]
        )
        champion_metric = version_metric(spec, champion_model, frame)
    except (MissingFeatureError, FeatureTypeError) as error:
        problem = str(error).split(";")[0]
        return [
            _resolved(
                row,
                PROMOTED,
                f"the champion cannot score {where}, so it cannot serve the current spec "
                f"({problem}); the new version replaces it without a comparison",
            )
        ]
    row["champion_metric"] = champion_metric
    if candidate_metric is None or champion_metric is None:
        return [
            _resolved(
                row,
                KEPT,
                f"{rule.metric} is undefined on {where} (no rows, or a single class); "
                "the champion keeps serving",
            )
        ]
    better = "higher" if rule.higher_is_better else "lower"
    if is_promoted(candidate_metric, champion_metric, rule):
        reason = (
            f"{rule.metric} on {where} is not worse than the champion's by more than the "
            f"margin ({better} is better)"
        )
        return [_resolved(row, PROMOTED, reason)]
    reason = (
        f"{rule.metric} on {where} is worse than the champion's by more than the margin "
        f"({better} is better); the champion keeps serving"
    )
    return [_resolved(row, KEPT, reason)]


def _resolved(row: dict[str, Any], resolved_by: str, reason: str) -> dict[str, Any]:
    serving = resolved_by != KEPT
    return {
        **row,
        "alias": CHAMPION if serving else CHALLENGER,
        "is_serving": serving,
        "resolved_by": resolved_by,
        "reason": reason,
    }


def decide_models(
    specs_table: Any,
    registries: Mapping[str, Any],
    evaluations: Mapping[str, Any],
    *,
    decided: Any | None = None,
    decided_at: datetime | None = None,
) -> pa.Table:
    """The new rows of the decision log, for every model of ``registries``.

    Parameters
    ----------
    specs_table : table
        ``ml_model_specs``.
    registries : mapping of model name to table
        Each model's registry (``{"churn": dbt.ref("ml_churn_model"), ...}``).
    evaluations : mapping of relation name to table
        The model file's refs of the promotion evaluation sets, by name: exactly the relations
        the specs' promotion rules name.
    decided : table, optional
        ``dbt.this`` on an incremental run.
    decided_at : datetime, optional
        Defaults to now (UTC).

    Returns
    -------
    pyarrow.Table
        Zero or one row per model, :data:`DECISIONS_SCHEMA`.

    Raises
    ------
    ModelSpecError
        If ``evaluations`` are not the relations the specs' promotion rules name.
    ModelNotRegisteredError
        If a model has no version trained from its current spec.
    """
    when = decided_at or datetime.now(UTC)
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    model_specs = [specs.from_table(specs_table, name) for name in sorted(registries)]
    expected = sorted({spec.promotion_evaluation.relation for spec in model_specs})
    specs.check_refs(
        "ml_model_decisions", evaluations, expected, "var('ml_models').<model>.promotion.dataset"
    )
    rows: list[dict[str, Any]] = []
    for spec in model_specs:
        rows.extend(
            decide(
                spec,
                registries[spec.model_name],
                evaluations[spec.promotion_evaluation.relation],
                decided,
                when,
            )
        )
    return pa.Table.from_pylist(rows, schema=DECISIONS_SCHEMA)


# --------------------------------------------------------------------------- serving


def champion_version(aliases: Any, model_name: str) -> str:
    """The version that serves ``model_name``: its ``champion`` row of ``ml_model_aliases``.

    Raises
    ------
    ModelNotRegisteredError
        If ``aliases`` has no champion (or a null version) for ``model_name``.
    """
    rows = engine.collect(
        engine.where(engine.where(aliases, "model_name", model_name), "alias", CHAMPION),
        MAX_DECISION_ROWS,
    ).to_pylist()
    if len(rows) != 1 or rows[0]["model_version"] is None:
        raise ModelNotRegisteredError(
            f"ml_model_aliases has no champion for model '{model_name}' ({len(rows)} rows); "
            f"build ml_{model_name}_model, ml_model_decisions and ml_model_aliases first"
        )
    return str(rows[0]["model_version"])
