"""The model spec: one row of ``ml_model_specs`` (built from ``var('ml_models')``), parsed.

A model is declared once, in the var; the SQL model ``ml_model_specs`` renders it with the
derived feature lists and the training set's sampling spec, and the Python models read their
row with ``dbt.ref("ml_model_specs")``. :func:`from_table` turns that row into a
:class:`ModelSpec`; every problem is a :class:`~warehouse_ml.errors.ModelSpecError` naming the
model and the field. :func:`check_refs` checks that a model file's literal refs are the
relations the specs name.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from warehouse_ml import engine, metrics
from warehouse_ml.errors import ModelSpecError
from warehouse_ml.training import ALGORITHMS, FeatureSpec

CALIBRATIONS = ("none", "negative_downsampling")
"""``none``: scores as fitted. ``negative_downsampling``: recalibrated with the training set's
negative downsampling rate (:func:`warehouse_ml.training.recalibrate_downsampled`)."""

SPLIT_COLUMN = "split"
"""A training set with this column is trained on its ``'train'`` rows only."""

TRAIN_SPLIT = "train"

MAX_SPEC_ROWS = 1_000


@dataclass(frozen=True)
class EvaluationSetSpec:
    """One evaluation set: rows of ``relation`` (its ``split`` rows when given), weighted or not."""

    name: str
    relation: str
    split: str | None = None
    weight_column: str | None = None


@dataclass(frozen=True)
class PromotionSpec:
    """When a newly trained version replaces the champion (``ml_models.<model>.promotion``).

    The candidate serves when its ``metric`` on the evaluation set ``dataset`` is not worse than
    the champion's on the same rows by more than ``margin`` (absolute); whether higher is better
    comes from :data:`warehouse_ml.metrics.HIGHER_IS_BETTER`.
    """

    metric: str
    dataset: str
    margin: float

    @property
    def higher_is_better(self) -> bool:
        return metrics.HIGHER_IS_BETTER[self.metric]


@dataclass(frozen=True)
class ModelSpec:
    """Everything that defines a model, as declared in ``var('ml_models')``.

    Attributes
    ----------
    model_name : str
        Registry name (``churn``, ``ctr``).
    training_set : str
        The training-set model.
    label, weight_column : str, str or None
        Label and sample-weight columns.
    key_columns : tuple of str
        Key columns of the scored rows (and of the compiled scoring SQL).
    features : FeatureSpec
        Numeric and categorical features (derived in SQL from the windows vars and the
        ``extra_*_columns`` vars).
    algorithm : str
        One of :data:`warehouse_ml.training.ALGORITHMS`.
    params : dict
        Estimator overrides of :data:`warehouse_ml.training.DEFAULT_PARAMS`.
    calibration : str
        One of :data:`CALIBRATIONS`.
    negative_downsampling_rate : float or None
        The rate to recalibrate with (set when ``calibration`` is ``negative_downsampling``).
    sampling_spec : dict
        The training set's ``meta.sampling``, whole; it goes into the registry row.
    evaluation_sets : tuple of EvaluationSetSpec
    scoring_population : str
        The SQL model the scorer scores.
    max_training_rows : int
        The most rows collected from the training set (and from each evaluation set).
    random_state : int
        Seed of the estimator (``ml_models.<model>.random_state``, else var ``ml_random_state``).
    spec_fingerprint : str
        Digest of the fields that determine the fitted model (computed in SQL, see
        ``ml_model_specs``); stored in every registry row and hashed into its version, so
        ``ml_model_decisions`` only ever decides on a version trained from the current spec.
    promotion : PromotionSpec
        The champion/challenger rule (not part of the fingerprint: it decides which version
        serves, not what is fitted).
    """

    model_name: str
    training_set: str
    label: str
    weight_column: str | None
    key_columns: tuple[str, ...]
    features: FeatureSpec
    algorithm: str
    params: dict[str, Any]
    calibration: str
    negative_downsampling_rate: float | None
    sampling_spec: dict[str, Any]
    evaluation_sets: tuple[EvaluationSetSpec, ...]
    scoring_population: str
    max_training_rows: int
    random_state: int
    spec_fingerprint: str
    promotion: PromotionSpec

    @property
    def recalibration_rate(self) -> float | None:
        """The rate scores are recalibrated with, or ``None`` (``calibration: none``)."""
        return self.negative_downsampling_rate if self.calibration != "none" else None

    @property
    def training_relations(self) -> tuple[str, ...]:
        """The relations the training model must pass: training set, then evaluation sets."""
        names = [self.training_set]
        names.extend(e.relation for e in self.evaluation_sets if e.relation not in names)
        return tuple(names)

    @property
    def promotion_evaluation(self) -> EvaluationSetSpec:
        """The evaluation set the promotion rule compares champion and candidate on."""
        return next(e for e in self.evaluation_sets if e.name == self.promotion.dataset)


def _error(model: str, field: str, problem: str) -> ModelSpecError:
    return ModelSpecError(
        f"model '{model}', field '{field}' of ml_model_specs: {problem} "
        f"(declared in var('ml_models').{model} in dbt_project.yml)"
    )


def _json(row: Mapping[str, Any], model: str, field: str, kind: type) -> Any:
    value = row.get(field)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise _error(model, field, f"is not valid JSON ({error})") from None
    if value is None:
        value = kind()
    if not isinstance(value, kind):
        raise _error(model, field, f"must be a JSON {kind.__name__}, got {value!r}")
    return value


def _text(row: Mapping[str, Any], model: str, field: str, optional: bool = False) -> str | None:
    value = row.get(field)
    if value is None or (isinstance(value, float) and value != value) or value == "":
        if optional:
            return None
        raise _error(model, field, "is missing")
    return str(value)


def _names(row: Mapping[str, Any], model: str, field: str) -> tuple[str, ...]:
    values = _json(row, model, field, list)
    if not all(isinstance(v, str) and v for v in values):
        raise _error(model, field, f"must be a list of column names, got {values!r}")
    return tuple(values)


def from_row(row: Mapping[str, Any]) -> ModelSpec:
    """Parse one ``ml_model_specs`` row (a mapping of its columns).

    Raises
    ------
    ModelSpecError
        A field is missing, is not valid JSON, or holds a value that is not allowed; the
        message names the model and the field.
    """
    model = _text(row, "<unnamed>", "model_name")
    assert model is not None
    algorithm = _text(row, model, "algorithm")
    if algorithm not in ALGORITHMS:
        raise _error(model, "algorithm", f"'{algorithm}' is not one of {ALGORITHMS}")
    calibration = _text(row, model, "calibration")
    if calibration not in CALIBRATIONS:
        raise _error(model, "calibration", f"'{calibration}' is not one of {CALIBRATIONS}")
    rate = row.get("negative_downsampling_rate")
    rate = None if rate is None or rate != rate else float(rate)
    if calibration == "negative_downsampling" and (rate is None or not 0.0 < rate <= 1.0):
        raise _error(
            model,
            "negative_downsampling_rate",
            f"must be in (0, 1] with calibration 'negative_downsampling', got {rate}",
        )
    try:
        features = FeatureSpec(
            numeric=_names(row, model, "numeric_features"),
            categorical=_names(row, model, "categorical_features"),
        )
    except ValueError as error:
        if isinstance(error, ModelSpecError):
            raise
        raise _error(model, "numeric_features/categorical_features", str(error)) from None
    evaluation_sets = []
    for index, item in enumerate(_json(row, model, "evaluation_sets", list)):
        where = f"evaluation_sets[{index}]"
        if not isinstance(item, dict) or not item.get("name") or not item.get("relation"):
            raise _error(model, where, f"needs a name and a relation, got {item!r}")
        unknown = sorted(set(item) - {"name", "relation", "split", "weight_column"})
        if unknown:
            raise _error(model, where, f"has unknown keys {unknown}")
        evaluation_sets.append(
            EvaluationSetSpec(
                name=str(item["name"]),
                relation=str(item["relation"]),
                split=item.get("split"),
                weight_column=item.get("weight_column"),
            )
        )
    names = [e.name for e in evaluation_sets]
    if len(set(names)) != len(names):
        raise _error(model, "evaluation_sets", f"names must be unique, got {names}")
    max_rows = row.get("max_training_rows")
    if max_rows is None or int(max_rows) < 1 or int(max_rows) != max_rows:
        raise _error(model, "max_training_rows", f"must be a positive integer, got {max_rows!r}")
    promotion = _promotion(row, model, names)
    random_state = row.get("random_state")
    if (
        random_state is None
        or isinstance(random_state, bool)
        or random_state != random_state
        or int(random_state) != random_state
        or int(random_state) < 0
    ):
        raise _error(model, "random_state", f"must be an integer >= 0, got {random_state!r}")
    return ModelSpec(
        model_name=model,
        training_set=str(_text(row, model, "training_set")),
        label=str(_text(row, model, "label")),
        weight_column=_text(row, model, "weight_column", optional=True),
        key_columns=_names(row, model, "key_columns"),
        features=features,
        algorithm=algorithm,
        params=_json(row, model, "params", dict),
        calibration=calibration,
        negative_downsampling_rate=rate,
        sampling_spec=_json(row, model, "sampling_spec", dict),
        evaluation_sets=tuple(evaluation_sets),
        scoring_population=str(_text(row, model, "scoring_population")),
        max_training_rows=int(max_rows),
        random_state=int(random_state),
        spec_fingerprint=str(_text(row, model, "spec_fingerprint")),
        promotion=promotion,
    )


def _promotion(row: Mapping[str, Any], model: str, evaluation_sets: list[str]) -> PromotionSpec:
    metric = _text(row, model, "promotion_metric")
    if metric not in metrics.HIGHER_IS_BETTER:
        raise _error(
            model,
            "promotion_metric",
            f"'{metric}' is not a metric that ranks models; use one of "
            f"{sorted(metrics.HIGHER_IS_BETTER)} (promotion.metric)",
        )
    dataset = _text(row, model, "promotion_dataset")
    if dataset not in evaluation_sets:
        raise _error(
            model,
            "promotion_dataset",
            f"'{dataset}' is not one of the model's evaluation_sets {evaluation_sets} "
            "(promotion.dataset)",
        )
    margin = row.get("promotion_margin")
    if (
        margin is None
        or isinstance(margin, bool)
        or not isinstance(margin, int | float)
        or not math.isfinite(margin)
        or margin < 0
    ):
        raise _error(
            model, "promotion_margin", f"must be a number >= 0, got {margin!r} (promotion.margin)"
        )
    assert metric is not None and dataset is not None
    return PromotionSpec(metric=metric, dataset=dataset, margin=float(margin))


def from_table(specs: Any, model_name: str) -> ModelSpec:
    """The spec of ``model_name`` from the ``ml_model_specs`` table (any engine or Arrow).

    Raises
    ------
    ModelSpecError
        If the table has no row, or several rows, for ``model_name``, or the row is invalid.
    """
    rows = engine.collect(engine.where(specs, "model_name", model_name), MAX_SPEC_ROWS).to_pylist()
    if len(rows) != 1:
        raise ModelSpecError(
            f"ml_model_specs has {len(rows)} rows for model '{model_name}', expected one; "
            f"declare it once under var('ml_models').{model_name} in dbt_project.yml"
        )
    return from_row(rows[0])


def check_refs(
    model_file: str, given: Iterable[str], expected: Iterable[str], declared_at: str
) -> None:
    """Check that the refs a model file passes are the relations ``ml_model_specs`` names.

    The one check behind every Python model that takes its relations by name (training,
    scoring, evaluation, promotion): a ref added to the file but not to the spec, or the
    reverse, fails here before anything is read.

    Parameters
    ----------
    model_file : str
        The model file, for the message (e.g. ``"the training model file of 'churn'"``).
    given : iterable of str
        Names of the relations the model file passes (its literal refs).
    expected : iterable of str
        Names the specs give (e.g. :attr:`ModelSpec.training_relations`).
    declared_at : str
        Where the spec names them, for the fix (e.g. ``"var('ml_models').churn"``).

    Raises
    ------
    ModelSpecError
        Naming the missing and the unexpected relations.
    """
    given, expected = sorted(set(given)), sorted(set(expected))
    missing = [name for name in expected if name not in given]
    unexpected = [name for name in given if name not in expected]
    if missing or unexpected:
        raise ModelSpecError(
            f"{model_file} passes refs {given} but ml_model_specs names {expected} "
            f"(missing: {missing}, not in the spec: {unexpected}); make the model file's "
            f"dbt.ref calls match {declared_at}, or the spec match the file"
        )
