"""The generic flow of every model: train, evaluate, register; then score with a registered version.

Both functions take a :class:`~warehouse_ml.specs.ModelSpec` and the relations the model file
refs by name; what to train on, evaluate on and score comes from the spec, never from Python
code. Python filters rows only by split (``split = 'train'``, an evaluation set's ``split``),
never by date: the populations are SQL models.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from warehouse_ml import engine, metrics, registry, sql_compile, training
from warehouse_ml.errors import ModelSpecError
from warehouse_ml.specs import (
    SPLIT_COLUMN,
    TRAIN_SPLIT,
    EvaluationSetSpec,
    ModelSpec,
    check_refs,
)

log = logging.getLogger(__name__)
"""Stage lines (rows read, fit time, rows scored); dbt's console shows them through
:mod:`warehouse_ml.dbt_log`, plain Python drops them (no handler)."""


def canonical_order(spec: ModelSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` sorted by the spec's key columns (those it has), then by every other column.

    An engine returns rows in whatever order its threads finish, which changes with the thread
    count and the physical order of the files; floating-point sums over the rows (a metric, a
    weight total) depend on that order. One total order, defined by the content, makes them
    the same on every build. The index is reset.
    """
    if len(frame) < 2:
        return frame.reset_index(drop=True)
    keys = [c for c in spec.key_columns if c in frame.columns]
    by = keys + [c for c in frame.columns if c not in keys and _sortable(frame[c])]
    if not by:
        return frame.reset_index(drop=True)
    return frame.sort_values(by, kind="mergesort", na_position="last").reset_index(drop=True)


def _sortable(series: pd.Series) -> bool:
    """Numbers, booleans, dates, decimals and texts sort; nested values (lists, structs) do not."""
    if not pd.api.types.is_object_dtype(series.dtype):
        return True
    kinds = {type(value) for value in series.dropna()}
    return len(kinds) <= 1 and kinds <= {str, bytes, date, datetime, Decimal}


def training_rows(spec: ModelSpec, training_set: Any) -> pd.DataFrame:
    """The rows to fit on: the ``split = 'train'`` rows when the set has a split, else all,
    in the canonical order (:func:`canonical_order`)."""
    if SPLIT_COLUMN in engine.columns(training_set):
        training_set = engine.where(training_set, SPLIT_COLUMN, TRAIN_SPLIT)
    return canonical_order(spec, engine.collect(training_set, spec.max_training_rows).to_pandas())


def check_evaluation_split(spec: ModelSpec, evaluation: EvaluationSetSpec, relation: Any) -> None:
    """Refuse an evaluation set that names a ``split`` of a relation without a split column.

    Raises
    ------
    ModelSpecError
        Naming the model, the evaluation set, its relation and the missing column.
    """
    if evaluation.split is not None and SPLIT_COLUMN not in engine.columns(relation):
        raise ModelSpecError(
            f"model '{spec.model_name}', evaluation set '{evaluation.name}': split "
            f"'{evaluation.split}' needs a '{SPLIT_COLUMN}' column, which relation "
            f"'{evaluation.relation}' lacks (columns: {engine.columns(relation)}); drop the "
            f"set's split or evaluate on a relation with a '{SPLIT_COLUMN}' column "
            f"(declared in var('ml_models').{spec.model_name} in dbt_project.yml)"
        )


def evaluation_rows(spec: ModelSpec, evaluation: EvaluationSetSpec, relation: Any) -> pd.DataFrame:
    """The rows of one evaluation set (its ``split`` rows when it names one), bounded, in the
    canonical order (:func:`canonical_order`: metrics sum over the rows)."""
    check_evaluation_split(spec, evaluation, relation)
    if evaluation.split is not None:
        relation = engine.where(relation, SPLIT_COLUMN, evaluation.split)
    return canonical_order(spec, engine.collect(relation, spec.max_training_rows).to_pandas())


def evaluate(
    spec: ModelSpec,
    trained: training.TrainedModel,
    version: str,
    evaluations: Mapping[str, pd.DataFrame],
) -> list[dict[str, Any]]:
    """Long-format metrics of ``trained`` on each evaluation set (empty ones skipped)."""
    rows: list[dict[str, Any]] = []
    for evaluation in spec.evaluation_sets:
        frame = evaluations[evaluation.name]
        if len(frame) == 0:
            continue
        scores = trained.predict_proba(frame)
        if spec.recalibration_rate is not None:
            scores = training.recalibrate_downsampled(scores, spec.recalibration_rate)
        weight = (
            frame[evaluation.weight_column].to_numpy(dtype=np.float64)
            if evaluation.weight_column
            else None
        )
        rows.extend(
            metrics.evaluate(
                frame[spec.label].astype("int64").to_numpy(),
                scores,
                model_name=spec.model_name,
                model_version=version,
                dataset=evaluation.name,
                sample_weight=weight,
            )
        )
    return rows


def train_and_register(
    spec: ModelSpec,
    relations: Mapping[str, Any],
    *,
    registered: Any | None = None,
    trained_at: datetime | None = None,
    empty: bool = False,
) -> pa.Table:
    """Fit the model the spec declares, evaluate it, compile it (linear models), register it.

    Parameters
    ----------
    spec : ModelSpec
        The model's row of ``ml_model_specs`` (its ``random_state`` seeds the estimator, its
        ``spec_fingerprint`` goes into the registry row and the version).
    relations : mapping of str to table
        The model file's refs by name: the training set and every evaluation relation
        (:attr:`ModelSpec.training_relations`), no more, no less.
    registered : table, optional
        The current registry (``dbt.this`` on an incremental run): when it already holds the
        version, nothing is returned, so the registry stays append-only and idempotent.
    trained_at : datetime, optional
        Defaults to now (UTC).
    empty : bool, default False
        ``dbt build --empty`` (the model's ``dbt.is_empty``): check the relations, train
        nothing and return no rows. Without it an empty training set fails
        (:class:`~warehouse_ml.errors.EmptyTrainingSetError`).

    Returns
    -------
    pyarrow.Table
        Zero or one rows of :data:`warehouse_ml.registry.REGISTRY_SCHEMA`; ``sampling_spec`` is
        the spec's, whole, and ``metrics`` holds the long-format metrics as JSON.

    Raises
    ------
    ModelSpecError
        If ``relations`` are not the ones the spec names.
    EmptyTrainingSetError, SingleClassLabelError, MissingFeatureError, ...
        From :func:`warehouse_ml.training.fit`, naming the training set.
    """
    check_refs(
        f"the training model file of '{spec.model_name}'",
        relations,
        spec.training_relations,
        f"var('ml_models').{spec.model_name}",
    )
    for evaluation in spec.evaluation_sets:  # before fitting, not after
        check_evaluation_split(spec, evaluation, relations[evaluation.relation])
    if empty:
        log.info("%s: --empty, no version trained", spec.model_name)
        return registry.registry_table([])
    has_split = SPLIT_COLUMN in engine.columns(relations[spec.training_set])
    split = f" ({SPLIT_COLUMN} = '{TRAIN_SPLIT}')" if has_split else ""
    started = time.perf_counter()
    rows = training_rows(spec, relations[spec.training_set])
    log.info(
        "%s: read %d training rows from %s in %.1fs",
        spec.model_name,
        len(rows),
        spec.training_set + split,
        time.perf_counter() - started,
    )
    started = time.perf_counter()
    trained = training.fit(
        rows,
        features=spec.features,
        label=spec.label,
        algorithm=spec.algorithm,
        random_state=spec.random_state,
        weight=spec.weight_column,
        params=spec.params,
        training_set=spec.training_set + split,
    )
    log.info(
        "%s: fitted %s on %d rows in %.1fs",
        spec.model_name,
        spec.algorithm,
        trained.row_count,
        time.perf_counter() - started,
    )
    version = registry.model_version(
        model_name=spec.model_name,
        trained=trained,
        training_set=spec.training_set,
        sampling_spec=spec.sampling_spec,
        spec_fingerprint=spec.spec_fingerprint,
        code=registry.code_version(),
    )
    if registry.is_registered(registered, spec.model_name, version):
        log.info("%s: version %s is already registered, none added", spec.model_name, version)
        return registry.registry_table([])
    started = time.perf_counter()
    evaluations = {
        e.name: evaluation_rows(spec, e, relations[e.relation]) for e in spec.evaluation_sets
    }
    scoring_sql: dict[str, str] = {}
    if spec.algorithm == "logistic_regression" and spec.key_columns:
        scoring_sql = sql_compile.registry_sql(
            trained.pipeline,
            spec.key_columns,
            negative_downsampling_rate=spec.recalibration_rate,
            integer_categoricals=trained.integer_categoricals,
        )
    row = registry.registry_row(
        trained,
        model_name=spec.model_name,
        training_set=spec.training_set,
        sampling_spec=spec.sampling_spec,
        spec_fingerprint=spec.spec_fingerprint,
        metrics={"rows": evaluate(spec, trained, version, evaluations)},
        negative_downsampling_rate=spec.recalibration_rate,
        scoring_sql=scoring_sql,
        trained_at=trained_at,
    )
    log.info(
        "%s: evaluated on %s and registered version %s in %.1fs",
        spec.model_name,
        ", ".join(f"{name} ({len(frame)} rows)" for name, frame in evaluations.items()),
        version,
        time.perf_counter() - started,
    )
    return registry.registry_table([row])


def score(
    session: Any,
    spec: ModelSpec,
    population: Mapping[str, Any],
    registry_table: Any,
    version: str | None,
    *,
    keys: tuple[str, ...] | None = None,
    probability_column: str = "probability",
    scored_at: datetime | None = None,
    empty: bool = False,
) -> Any:
    """Score the spec's population with ``version`` (the champion of ``ml_model_aliases``).

    Parameters
    ----------
    session : duckdb connection or SparkSession
        The dbt Python model's session.
    spec : ModelSpec
    population : mapping of one name to a table
        ``{spec.scoring_population: dbt.ref(...)}``, scored exactly as given.
    registry_table : table
        The model's registry.
    version : str or None
        The version to score with, read from ``ml_model_aliases`` by
        :func:`warehouse_ml.promotion.champion_version` (None only with ``empty``).
    keys : tuple of str, optional
        Columns carried to the output (default: the spec's key columns).
    probability_column : str
    scored_at : datetime, optional
        Defaults to now (UTC).
    empty : bool, default False
        ``dbt build --empty`` (the model's ``dbt.is_empty``): load no model (``version`` is
        not read) and return the same columns, typed alike, without rows.

    Returns
    -------
    pyarrow.RecordBatchReader or pyspark DataFrame
        Lazy: ``keys``, ``probability_column``, ``model_version``, ``scored_at``.
    """
    check_refs(
        f"the scoring model file of '{spec.model_name}'",
        population,
        [spec.scoring_population],
        f"var('ml_models').{spec.model_name}.scoring_population",
    )
    if empty:
        return engine.empty_scores(
            population[spec.scoring_population],
            keys or spec.key_columns,
            {probability_column: "double", **SCORE_CONSTANT_TYPES},
        )
    if version is None:
        raise ValueError(f"score: no version given to score model '{spec.model_name}' with")
    model = registry.load_model(registry_table, spec.model_name, version)
    when = scored_at or datetime.now(UTC)
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    scored = engine.score(
        population[spec.scoring_population],
        model,
        keys or spec.key_columns,
        probability_column=probability_column,
        constants={"model_version": model.model_version, "scored_at": when},
        connection=session if engine.detect_engine(session) == "duckdb" else None,
    )
    if not isinstance(scored, pa.RecordBatchReader):  # Spark: scored lazily on the executors
        log.info(
            "%s: scoring %s with version %s", spec.model_name, spec.scoring_population, version
        )
        return scored
    return _logged_reader(scored, f"{spec.model_name}: scored {spec.scoring_population}")


SCORE_CONSTANT_TYPES = {"model_version": "string", "scored_at": "timestamp"}
"""SQL types of the columns :func:`score` adds after the probability (a double)."""

LOG_EVERY_ROWS = 1_000_000
"""A streamed scoring logs its progress after every this many rows (and once at the end)."""


def _logged_reader(reader: pa.RecordBatchReader, what: str) -> pa.RecordBatchReader:
    """``reader`` unchanged, logging rows scored and elapsed time as the engine pulls batches."""

    def batches() -> Iterator[pa.RecordBatch]:
        started, rows, logged = time.perf_counter(), 0, 0
        for batch in reader:
            rows += batch.num_rows
            if rows - logged >= LOG_EVERY_ROWS:
                log.info("%s: %d rows so far, %.1fs", what, rows, time.perf_counter() - started)
                logged = rows
            yield batch
        log.info("%s: %d rows in %.1fs", what, rows, time.perf_counter() - started)

    return pa.RecordBatchReader.from_batches(reader.schema, batches())
