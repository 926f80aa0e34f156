"""Build and fit scikit-learn pipelines from declared feature lists.

Two algorithms, both binary classifiers:

* ``hist_gradient_boosting`` (churn): ordinal-encoded categoricals handed to
  ``HistGradientBoostingClassifier`` as native categorical features, numeric columns as is
  (missing values handled natively).
* ``logistic_regression`` (CTR): median-imputed, standardised numeric columns and one-hot
  encoded categoricals into ``LogisticRegression``; this pipeline also compiles to SQL
  (:mod:`warehouse_ml.sql_compile`).

Categorical columns are always compared as strings (integers become their decimal text,
nulls become :data:`MISSING_CATEGORY`) so that pandas, Arrow and SQL agree on the values.

Training is deterministic: rows are put in a content-defined order before fitting, and the
training set is summarised by an order-independent fingerprint, so retraining on the same
rows in any order gives the same model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from warehouse_ml.errors import (
    EmptyTrainingSetError,
    FeatureTypeError,
    InvalidLabelError,
    MissingFeatureError,
    SingleClassLabelError,
)

MISSING_CATEGORY = "__missing__"
"""The category a null categorical value becomes (in pandas, Arrow and SQL alike)."""

ALGORITHMS = ("hist_gradient_boosting", "logistic_regression")

DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    # Small, regularised trees: on the churn sample at scale 0.02 the library defaults
    # (31 leaves, 20 rows a leaf, no L2) overfit to a holdout normalized entropy above 1.
    "hist_gradient_boosting": {
        "learning_rate": 0.03,
        "max_iter": 200,
        "max_leaf_nodes": 8,
        "min_samples_leaf": 100,
        "l2_regularization": 1.0,
        "early_stopping": False,
    },
    "logistic_regression": {
        "C": 1.0,
        "max_iter": 1000,
        "tol": 1e-6,
    },
}


@dataclass(frozen=True)
class FeatureSpec:
    """The feature columns a model uses.

    Parameters
    ----------
    numeric : sequence of str
        Numeric columns (integers, floating point or booleans as 0/1; nulls allowed).
    categorical : sequence of str
        Categorical columns (strings or integers; nulls allowed).
    """

    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "numeric", tuple(self.numeric))
        object.__setattr__(self, "categorical", tuple(self.categorical))
        if not self.numeric and not self.categorical:
            raise ValueError("FeatureSpec: declare at least one numeric or categorical feature")
        duplicated = sorted(set(self.numeric) & set(self.categorical))
        if duplicated:
            raise ValueError(
                f"FeatureSpec: column(s) {duplicated} are declared both numeric and "
                "categorical; declare each column once"
            )

    @property
    def columns(self) -> tuple[str, ...]:
        """All feature columns, numeric first."""
        return self.numeric + self.categorical

    def to_records(self, integer_categoricals: Sequence[str] = ()) -> list[dict[str, str]]:
        """Feature names and roles as ``[{"name", "type": "numeric"|"categorical", "dtype"}]``.

        ``dtype`` is ``"double"`` for numeric features and ``"bigint"`` or ``"string"`` for
        categorical ones (``integer_categoricals`` lists the integer-typed ones).
        """
        return [{"name": c, "type": "numeric", "dtype": "double"} for c in self.numeric] + [
            {
                "name": c,
                "type": "categorical",
                "dtype": "bigint" if c in integer_categoricals else "string",
            }
            for c in self.categorical
        ]

    @classmethod
    def from_records(cls, records: Sequence[Mapping[str, str]]) -> FeatureSpec:
        """Inverse of :meth:`to_records`."""
        return cls(
            numeric=tuple(r["name"] for r in records if r["type"] == "numeric"),
            categorical=tuple(r["name"] for r in records if r["type"] == "categorical"),
        )


@dataclass
class TrainedModel:
    """A fitted pipeline with what is needed to register and score it.

    Attributes
    ----------
    pipeline : sklearn.pipeline.Pipeline
        The fitted pipeline; its last step is named ``"model"``.
    features : FeatureSpec
        The declared features.
    algorithm : str
        One of :data:`ALGORITHMS`.
    params : dict
        Hyper-parameters of the final estimator (defaults merged with overrides).
    random_state : int
        The seed the estimator was fitted with.
    label : str
        The label column.
    weight : str or None
        The sample-weight column, if any.
    row_count : int
        Training rows.
    weight_sum : float
        Sum of sample weights (``row_count`` without weights).
    positive_count : int
        Training rows with label 1.
    data_fingerprint : str
        Order-independent hex digest of the training rows (features, label and weight).
    integer_categoricals : tuple of str
        Categorical features that were integer-typed in the training set (compiled SQL
        compares them as integers, which is faster than as text).
    extra : dict
        Free-form additions by callers.
    """

    pipeline: Pipeline
    features: FeatureSpec
    algorithm: str
    params: dict[str, Any]
    random_state: int
    label: str
    weight: str | None
    row_count: int
    weight_sum: float
    positive_count: int
    data_fingerprint: str
    integer_categoricals: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, data: Any) -> np.ndarray:
        """Probability of the positive class for each row of ``data``."""
        frame = prepare_features(to_pandas(data, self.features.columns), self.features)
        with threadpool_limits(limits=1):
            return self.pipeline.predict_proba(frame)[:, 1]


def to_pandas(data: Any, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A pandas DataFrame from a pandas DataFrame or a pyarrow Table / RecordBatch.

    Engine tables (DuckDB relations, Spark DataFrames) are collected first, bounded, with
    :func:`warehouse_ml.engine.collect`; full populations go through
    :func:`warehouse_ml.engine.score` in batches.
    """
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, pa.Table | pa.RecordBatch):
        frame = data.to_pandas()
    else:
        raise TypeError(
            f"to_pandas: cannot read a {type(data).__name__}; pass a pandas DataFrame or a "
            "pyarrow Table (collect engine tables with warehouse_ml.engine.collect)"
        )
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise MissingFeatureError(
                f"column(s) {missing} not found in the data (columns: {list(frame.columns)}); "
                "add them to the model's input query or remove them from the feature list"
            )
    return frame


def _check_numeric(name: str, series: pd.Series) -> None:
    """Numbers and booleans (as 0/1) are numeric; an all-null column passes as missing."""
    if not (pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series)):
        if series.isna().all():
            return
        raise FeatureTypeError(
            f"numeric feature '{name}' has type {series.dtype}; cast it to a number in SQL "
            "or declare it categorical"
        )


def _check_categorical(name: str, series: pd.Series) -> None:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        raise FeatureTypeError(
            f"categorical feature '{name}' has type {dtype}; categorical features must be "
            "strings or integers (cast it in SQL)"
        )
    if not (
        pd.api.types.is_integer_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
    ):
        raise FeatureTypeError(
            f"categorical feature '{name}' has type {dtype}; categorical features must be "
            "strings or integers (cast it in SQL)"
        )


def prepare_features(frame: pd.DataFrame, features: FeatureSpec) -> pd.DataFrame:
    """Select and normalise the feature columns.

    Numeric columns become float64 (nulls as NaN); categorical columns become Python
    strings with nulls replaced by :data:`MISSING_CATEGORY`.

    Raises
    ------
    MissingFeatureError
        If a declared feature column is absent.
    FeatureTypeError
        If a column's type does not fit its declared role.
    """
    missing = [c for c in features.columns if c not in frame.columns]
    if missing:
        raise MissingFeatureError(
            f"feature column(s) {missing} not found in the data (columns: "
            f"{list(frame.columns)}); add them to the input query or to the feature list"
        )
    out: dict[str, Any] = {}
    for name in features.numeric:
        _check_numeric(name, frame[name])
        out[name] = frame[name].astype("float64").to_numpy(na_value=np.nan)
    for name in features.categorical:
        _check_categorical(name, frame[name])
        out[name] = frame[name].astype("string").fillna(MISSING_CATEGORY).to_numpy(dtype=object)
    return pd.DataFrame(out, index=frame.index)


def build_pipeline(
    features: FeatureSpec,
    algorithm: str,
    params: Mapping[str, Any] | None = None,
    random_state: int = 0,
) -> Pipeline:
    """Build an unfitted pipeline for ``algorithm`` over ``features``.

    Parameters
    ----------
    features : FeatureSpec
        The declared features.
    algorithm : {"hist_gradient_boosting", "logistic_regression"}
        The final estimator.
    params : mapping, optional
        Overrides of :data:`DEFAULT_PARAMS` for the final estimator.
    random_state : int
        Seed of the final estimator.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``"preprocess"`` (a ColumnTransformer) and ``"model"``.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm '{algorithm}' is not supported; use one of {ALGORITHMS}")
    merged = {**DEFAULT_PARAMS[algorithm], **(params or {})}
    if algorithm == "hist_gradient_boosting":
        transformers = []
        if features.categorical:
            transformers.append(
                (
                    "categorical",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=np.nan,
                        encoded_missing_value=np.nan,
                        max_categories=250,
                        dtype=np.float64,
                    ),
                    list(features.categorical),
                )
            )
        if features.numeric:
            transformers.append(("numeric", "passthrough", list(features.numeric)))
        is_categorical = [True] * len(features.categorical) + [False] * len(features.numeric)
        estimator = HistGradientBoostingClassifier(
            categorical_features=is_categorical if features.categorical else None,
            random_state=random_state,
            **merged,
        )
    else:
        transformers = []
        if features.numeric:
            transformers.append(
                (
                    "numeric",
                    Pipeline(
                        [
                            (
                                "impute",
                                SimpleImputer(strategy="median", keep_empty_features=True),
                            ),
                            ("scale", StandardScaler()),
                        ]
                    ),
                    list(features.numeric),
                )
            )
        if features.categorical:
            transformers.append(
                (
                    "categorical",
                    OneHotEncoder(handle_unknown="ignore", dtype=np.float64),
                    list(features.categorical),
                )
            )
        estimator = LogisticRegression(random_state=random_state, **merged)
    preprocess = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    return Pipeline([("preprocess", preprocess), ("model", estimator)])


ARTIFACT_TYPES = frozenset(
    {
        # What build_pipeline assembles, fitted:
        "sklearn.pipeline.Pipeline",
        "sklearn.compose._column_transformer.ColumnTransformer",
        "sklearn.preprocessing._function_transformer.FunctionTransformer",  # "passthrough"
        "sklearn.preprocessing._encoders.OrdinalEncoder",
        "sklearn.preprocessing._encoders.OneHotEncoder",
        "sklearn.impute._base.SimpleImputer",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        # ... and what the fitted estimators hold:
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss._loss.CyHalfBinomialLoss",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.Interval",
        "sklearn.preprocessing._label.LabelEncoder",
        "sklearn.utils.validation.check_array",  # kept as partial(check_array, ...)
        "functools.partial",
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.float64",
        "numpy.uint64",
        "numpy.random._generator.Generator",
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.slice",
        "builtins.str",
    }
)
"""Every type a serialised pipeline of :func:`build_pipeline` holds, exactly (``module.name``).

The registry's skops loader builds these and nothing else (not every ``sklearn.*`` or ``numpy.*``
type): a new algorithm or preprocessing step adds its types here, and
tests/python/test_artifact_types.py checks every pipeline the builder can produce, for every
algorithm in :data:`ALGORITHMS`, against this list."""


def fingerprint(frame: pd.DataFrame) -> tuple[str, np.ndarray]:
    """Order-independent digest of a frame's rows, and each row's hash.

    The digest is the sum (mod 2**64) of per-row hashes, so it does not depend on row order.
    """
    row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
    total = int(row_hashes.sum(dtype=np.uint64)) if len(row_hashes) else 0
    return f"{total:016x}-{len(row_hashes)}", row_hashes


def _check_label(frame: pd.DataFrame, label: str, training_set: str) -> np.ndarray:
    if label not in frame.columns:
        raise InvalidLabelError(
            f"label column '{label}' not found in training set '{training_set}' "
            f"(columns: {list(frame.columns)}); pass the right label name"
        )
    series = frame[label]
    nulls = int(series.isna().sum())
    if nulls:
        raise InvalidLabelError(
            f"label '{label}' in training set '{training_set}' has {nulls} null value(s); "
            "filter unlabelled rows out of the training set"
        )
    values = series.astype("int64").to_numpy() if pd.api.types.is_bool_dtype(series) else None
    if values is None:
        if not pd.api.types.is_numeric_dtype(series):
            raise InvalidLabelError(
                f"label '{label}' in training set '{training_set}' has type {series.dtype}; "
                "use a boolean or 0/1 integer label"
            )
        values = series.to_numpy(dtype=np.float64)
    bad = ~np.isin(values, (0, 1))
    if bad.any():
        raise InvalidLabelError(
            f"label '{label}' in training set '{training_set}' has values other than 0/1 "
            f"(e.g. {values[bad][0]}); use a boolean or 0/1 integer label"
        )
    classes = np.unique(values)
    if len(classes) < 2:
        raise SingleClassLabelError(
            f"label '{label}' in training set '{training_set}' has the single value "
            f"{int(classes[0])} in all {len(values)} rows; a classifier needs both classes "
            "(widen the training window or check the label logic)"
        )
    return values.astype(np.int64)


def fit(
    data: Any,
    *,
    features: FeatureSpec,
    label: str,
    algorithm: str,
    random_state: int,
    weight: str | None = None,
    params: Mapping[str, Any] | None = None,
    training_set: str = "training set",
    n_threads: int = 1,
) -> TrainedModel:
    """Fit a pipeline on a training set.

    Parameters
    ----------
    data : pandas.DataFrame or pyarrow.Table
        The training rows (a sample, collected with :func:`warehouse_ml.engine.collect`).
    features : FeatureSpec
        Feature columns.
    label : str
        Binary label column (boolean or 0/1).
    algorithm : {"hist_gradient_boosting", "logistic_regression"}
        Final estimator.
    random_state : int
        Seed of the estimator (explicit on purpose).
    weight : str, optional
        Sample-weight column (non-negative, finite).
    params : mapping, optional
        Hyper-parameter overrides.
    training_set : str
        Name of the training set, used in error messages.
    n_threads : int
        OpenMP/BLAS threads while fitting (1 is steady on a shared machine).

    Returns
    -------
    TrainedModel

    Raises
    ------
    EmptyTrainingSetError, SingleClassLabelError, InvalidLabelError,
    MissingFeatureError, FeatureTypeError
    """
    frame = to_pandas(data)
    if len(frame) == 0:
        raise EmptyTrainingSetError(
            f"training set '{training_set}' has no rows; check the sampling spec and the "
            "training window (is the upstream model empty?)"
        )
    X = prepare_features(frame, features)
    y = _check_label(frame, label, training_set)
    if weight is not None:
        if weight not in frame.columns:
            raise MissingFeatureError(
                f"weight column '{weight}' not found in training set '{training_set}'; "
                "pass weight=None or add the column"
            )
        w = frame[weight].astype("float64").to_numpy(na_value=np.nan)
        if not np.all(np.isfinite(w)) or (w < 0).any():
            raise ValueError(
                f"weight column '{weight}' in training set '{training_set}' has null, "
                "infinite or negative values; weights must be finite and >= 0"
            )
        if w.sum() <= 0:
            raise EmptyTrainingSetError(
                f"training set '{training_set}' has zero total weight in '{weight}'"
            )
    else:
        w = np.ones(len(frame), dtype=np.float64)

    content = X.assign(__label=y, __weight=w)
    digest, row_hashes = fingerprint(content)
    order = np.argsort(row_hashes, kind="stable")
    X, y, w = X.iloc[order].reset_index(drop=True), y[order], w[order]

    pipeline = build_pipeline(features, algorithm, params, random_state)
    with threadpool_limits(limits=n_threads):
        pipeline.fit(X, y, model__sample_weight=normalized_weights(w))
    return TrainedModel(
        pipeline=pipeline,
        features=features,
        algorithm=algorithm,
        params={**DEFAULT_PARAMS[algorithm], **(params or {})},
        random_state=random_state,
        label=label,
        weight=weight,
        row_count=len(frame),
        weight_sum=float(w.sum()),
        positive_count=int(y.sum()),
        data_fingerprint=digest,
        integer_categoricals=tuple(
            c for c in features.categorical if pd.api.types.is_integer_dtype(frame[c].dtype)
        ),
    )


def normalized_weights(weights: np.ndarray) -> np.ndarray:
    """Sample weights rescaled to mean 1 (the weights an estimator is fitted with).

    Inverse inclusion probabilities (``1 / p``, e.g. 10 for a 10% sample, 40 for negatives kept at
    2.5%) make the weighted row count many times the real one; scikit-learn's penalised estimators
    add their penalty once, against a loss summed over the weights, so raw ``1 / p`` weights all
    but switch the regularisation off (the logistic regression overfit, NE up to 1.44 on the new
    category). Rescaled to mean 1, the weights keep their ratios (what corrects the sample) and
    the loss keeps the scale of the real row count.

    Parameters
    ----------
    weights : numpy.ndarray
        Finite, non-negative weights with a positive sum.

    Returns
    -------
    numpy.ndarray
        ``weights / mean(weights)``, float64.
    """
    weights = np.asarray(weights, dtype=np.float64)
    total = float(weights.sum())
    if not np.all(np.isfinite(weights)) or (weights < 0).any() or not total > 0:
        raise ValueError("sample weights must be finite, >= 0 and not all zero")
    return weights * (len(weights) / total)


def recalibrate_downsampled(p: np.ndarray | float, rate: float) -> np.ndarray:
    """Undo negative downsampling: ``q = p / (p + (1 - p) / rate)``.

    He et al. (2014), "Practical Lessons from Predicting Clicks on Ads at Facebook": a model
    fitted (without compensating weights) on data where negatives were kept with probability
    ``rate`` over-predicts; ``q`` is the probability on the original population. Equivalent
    to adding ``log(rate)`` to the logit.

    Parameters
    ----------
    p : array-like
        Predicted probabilities from the model fitted on the downsampled data.
    rate : float
        Fraction of negatives kept, in (0, 1].
    """
    if not (0.0 < rate <= 1.0) or math.isnan(rate):
        raise ValueError(f"negative downsampling rate must be in (0, 1], got {rate}")
    p = np.asarray(p, dtype=np.float64)
    return p / (p + (1.0 - p) / rate)
