"""Streaming scoring: Arrow record batches in, a ``pyarrow.RecordBatchReader`` out.

The population is never materialised: each input batch is scored and yielded, so memory
is bounded by a batch, whatever the table size. dbt-duckdb registers the returned reader
and runs ``create table as select`` over it, which pulls the batches one by one.

Two ways to score a batch:

* ``"linear"``: the linear pipeline reduced to its terms
  (:func:`warehouse_ml.sql_compile.linear_logit`) and evaluated on the Arrow columns with
  numpy, no pandas; equal to scikit-learn within ~1e-12.
* ``"sklearn"``: the batch's feature columns to pandas, then ``pipeline.predict_proba``
  (any pipeline, e.g. gradient boosting), under a 1-thread OpenMP/BLAS limit by default.

``"auto"`` picks ``"linear"`` when the pipeline compiles and ``"sklearn"`` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from threadpoolctl import threadpool_limits

from warehouse_ml.errors import FeatureTypeError, MissingFeatureError, UnsupportedPipelineError
from warehouse_ml.sql_compile import LinearLogit, linear_logit, linear_logit_arrow
from warehouse_ml.training import FeatureSpec, prepare_features, recalibrate_downsampled

DEFAULT_BATCH_SIZE = 122_880
METHODS = ("auto", "linear", "sklearn")


def _base_type(data_type: pa.DataType) -> pa.DataType:
    return data_type.value_type if pa.types.is_dictionary(data_type) else data_type


def _is_numeric(data_type: pa.DataType) -> bool:
    data_type = _base_type(data_type)
    return (
        pa.types.is_integer(data_type)
        or pa.types.is_floating(data_type)
        or pa.types.is_decimal(data_type)
        or pa.types.is_boolean(data_type)
        or pa.types.is_null(data_type)
    )


def _is_categorical(data_type: pa.DataType) -> bool:
    data_type = _base_type(data_type)
    return (
        pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
        or pa.types.is_string_view(data_type)
        or pa.types.is_integer(data_type)
        or pa.types.is_null(data_type)
    )


def check_schema(schema: pa.Schema, features: FeatureSpec, key_columns: Sequence[str] = ()) -> None:
    """Check that the scoring input has every feature and key column, with usable types.

    Raises
    ------
    MissingFeatureError
        A feature or key column is absent.
    FeatureTypeError
        A numeric feature is not a number, or a categorical feature is not a string or
        integer (for example a column retyped since training).
    """
    names = set(schema.names)
    missing_keys = [c for c in key_columns if c not in names]
    if missing_keys:
        raise MissingFeatureError(
            f"key column(s) {missing_keys} not found in the scoring input (columns: "
            f"{schema.names}); select them in the population query"
        )
    missing = [c for c in features.columns if c not in names]
    if missing:
        raise MissingFeatureError(
            f"feature column(s) {missing} the model was trained on are not in the scoring "
            f"input (columns: {schema.names}); select them in the population query"
        )
    for column in features.numeric:
        data_type = schema.field(column).type
        if not _is_numeric(data_type):
            raise FeatureTypeError(
                f"feature column '{column}' is {data_type} in the scoring input but the model "
                "was trained on it as numeric; cast it to a number in the population query"
            )
    for column in features.categorical:
        data_type = schema.field(column).type
        if not _is_categorical(data_type):
            raise FeatureTypeError(
                f"feature column '{column}' is {data_type} in the scoring input but the model "
                "was trained on it as a categorical string/integer; cast it in the query"
            )


def as_reader(source: Any, batch_size: int = DEFAULT_BATCH_SIZE) -> pa.RecordBatchReader:
    """A RecordBatchReader over a reader or an Arrow table (engine tables: :mod:`engine`)."""
    if isinstance(source, pa.RecordBatchReader):
        return source
    if isinstance(source, pa.Table):
        return source.to_reader(max_chunksize=batch_size)
    raise TypeError(
        f"cannot stream a {type(source).__name__}; pass a pyarrow RecordBatchReader or Table "
        "(warehouse_ml.engine.score streams DuckDB relations and Spark DataFrames)"
    )


def _constant_columns(constants: Mapping[str, Any]) -> list[tuple[pa.Field, pa.Scalar]]:
    columns = []
    for name, value in constants.items():
        scalar = value if isinstance(value, pa.Scalar) else pa.scalar(value)
        columns.append((pa.field(name, scalar.type), scalar))
    return columns


class BatchPredictor:
    """Positive-class probabilities of a model for one Arrow batch at a time.

    Picklable (Spark ships it to its executors with the fitted pipeline inside).

    Parameters
    ----------
    model : LoadedModel or TrainedModel
        Anything with ``pipeline`` and ``features`` (and optionally
        ``negative_downsampling_rate``).
    method : {"auto", "linear", "sklearn"}
    negative_downsampling_rate : float, optional
        Overrides the model's own rate.
    n_threads : int
        OpenMP/BLAS threads for the ``"sklearn"`` method.
    """

    def __init__(
        self,
        model: Any,
        method: str = "auto",
        negative_downsampling_rate: float | None = None,
        n_threads: int = 1,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method '{method}' is not supported; use one of {METHODS}")
        rate = negative_downsampling_rate
        if rate is None:
            rate = getattr(model, "negative_downsampling_rate", None)
        if rate is not None and not 0.0 < rate <= 1.0:
            raise ValueError(f"negative downsampling rate must be in (0, 1], got {rate}")
        self.pipeline = model.pipeline
        self.features: FeatureSpec = model.features
        self.rate = rate
        self.n_threads = n_threads
        self.logit: LinearLogit | None = None
        if method in ("auto", "linear"):
            try:
                self.logit = linear_logit(model.pipeline)
            except UnsupportedPipelineError:
                if method == "linear":
                    raise
        self.log_rate = float(np.log(rate)) if rate is not None else 0.0

    def __call__(self, batch: pa.RecordBatch) -> np.ndarray:
        """Probabilities for the rows of ``batch`` (float64, recalibrated if a rate is set)."""
        if self.logit is not None:
            z = linear_logit_arrow(self.logit, batch, self.log_rate)
            return 1.0 / (1.0 + np.exp(-z))
        frame = prepare_features(
            batch.select(list(self.features.columns)).to_pandas(), self.features
        )
        with threadpool_limits(limits=self.n_threads):
            p = self.pipeline.predict_proba(frame)[:, 1]
        return recalibrate_downsampled(p, self.rate) if self.rate is not None else p

    def predict_pandas(self, frame: pd.DataFrame) -> np.ndarray:
        """Probabilities for the rows of a pandas batch (Spark's ``mapInPandas``)."""
        columns = frame[list(self.features.columns)].copy()
        for name in self.features.categorical:  # integers with nulls arrive as floats
            if pd.api.types.is_float_dtype(columns[name].dtype):
                columns[name] = columns[name].astype("Int64")
        return self(pa.RecordBatch.from_pandas(columns, preserve_index=False))


def score_reader(
    source: Any,
    model: Any,
    *,
    key_columns: Sequence[str],
    probability_column: str = "probability",
    constants: Mapping[str, Any] | None = None,
    negative_downsampling_rate: float | None = None,
    method: str = "auto",
    n_threads: int = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> pa.RecordBatchReader:
    """Score a population batch by batch.

    Parameters
    ----------
    source : RecordBatchReader or pyarrow Table
        The population: key columns and feature columns.
    model : LoadedModel or TrainedModel
        Anything with ``pipeline`` and ``features``; a ``negative_downsampling_rate``
        attribute (as on :class:`warehouse_ml.registry.LoadedModel`) is applied unless
        the argument overrides it.
    key_columns : sequence of str
        Columns copied to the output unchanged (e.g. ``customer_id``).
    probability_column : str
        Name of the prediction column (float64).
    constants : mapping, optional
        Columns with one value for every row (e.g. ``model_version``, ``scored_at``).
    negative_downsampling_rate : float, optional
        Recalibrate with ``q = p / (p + (1 - p) / rate)``.
    method : {"auto", "linear", "sklearn"}
    n_threads : int
        OpenMP/BLAS threads for ``"sklearn"`` (1 was steadiest when streaming here).
    batch_size : int
        Rows per batch when ``source`` is a table.

    Returns
    -------
    pyarrow.RecordBatchReader
        Schema ``key_columns + [probability_column] + constants``, fixed before any batch
        is scored; batches are scored lazily as the reader is consumed.
    """
    if method not in METHODS:
        raise ValueError(f"method '{method}' is not supported; use one of {METHODS}")
    reader = as_reader(source, batch_size)
    features: FeatureSpec = model.features
    check_schema(reader.schema, features, key_columns)
    predictor = BatchPredictor(model, method, negative_downsampling_rate, n_threads)
    constant_columns = _constant_columns(constants or {})
    schema = pa.schema(
        [reader.schema.field(k) for k in key_columns]
        + [pa.field(probability_column, pa.float64())]
        + [f for f, _ in constant_columns]
    )

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            if batch.num_rows == 0:
                continue
            arrays = [batch.column(k) for k in key_columns]
            arrays.append(pa.array(predictor(batch), pa.float64()))
            arrays.extend(pa.repeat(scalar, batch.num_rows) for _, scalar in constant_columns)
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())
