"""What the dbt Python models call: train + evaluate + register, and score a population.

Each function is one call from a thin model in ``python_models/``; they combine
:mod:`training`, :mod:`metrics`, :mod:`registry`, :mod:`scoring` and :mod:`sql_compile`
and stay engine-neutral (DuckDB relation or Spark DataFrame in, the engine's table out).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from warehouse_ml import engine, metrics, registry, scoring, sql_compile, training
from warehouse_ml.training import FeatureSpec

CHURN_CATEGORICAL = ("segment", "region", "acquisition_channel")
CHURN_WINDOW_FEATURES = (
    "transaction_count",
    "total_amount",
    "avg_basket_amount",
    "total_quantity",
    "distinct_products",
    "new_category_spend_share",
)

CTR_FEATURES = FeatureSpec(
    numeric=(
        "ad_previous_impressions_7d",
        "ad_previous_smoothed_click_through_rate_7d",
        "ad_previous_impressions_28d",
        "ad_previous_smoothed_click_through_rate_28d",
        "user_previous_impressions",
        "user_previous_click_through_rate",
        "days_since_category_launch",
        "is_new_category",
    ),
    categorical=("ad_id", "placement", "device", "impression_hour"),
)
"""CTR model features: one-hot ad, placement, device and hour, plus historical CTRs."""


def config_list(value: Any) -> list[Any]:
    """A list from a dbt config value (a list, or its text as Jinja renders it: "[30, 90]")."""
    if isinstance(value, str):
        return list(json.loads(value))
    return list(value)


def config_version(value: Any) -> str | None:
    """A pinned model version from a dbt config value; ``None``/""/"None"/"null" mean newest."""
    if value is None or str(value).strip().lower() in ("", "none", "null"):
        return None
    return str(value).strip()


def churn_features(windows: Sequence[int] | str) -> FeatureSpec:
    """Churn model features for the ``churn_feature_windows_days`` windows."""
    windows = config_list(windows)
    numeric = ["tenure_days", "recency_days"]
    for window in windows:
        numeric.extend(f"{name}_{int(window)}d" for name in CHURN_WINDOW_FEATURES)
    numeric.extend(["transaction_trend_ratio", "amount_trend_ratio"])
    return FeatureSpec(numeric=tuple(numeric), categorical=CHURN_CATEGORICAL)


@dataclass(frozen=True)
class EvaluationSet:
    """Rows to evaluate on: a dataset name, the rows, and an optional weight column."""

    name: str
    rows: pd.DataFrame
    weight: str | None = None


def _scores(trained: training.TrainedModel, rows: pd.DataFrame, rate: float | None) -> np.ndarray:
    p = trained.predict_proba(rows)
    return training.recalibrate_downsampled(p, rate) if rate is not None else p


def train_and_register(
    training_rows: pd.DataFrame,
    evaluations: Sequence[EvaluationSet],
    *,
    model_name: str,
    training_set: str,
    sampling_spec: Mapping[str, Any] | None,
    features: FeatureSpec,
    label: str,
    algorithm: str,
    random_state: int,
    weight: str | None = None,
    params: Mapping[str, Any] | None = None,
    negative_downsampling_rate: float | None = None,
    key_columns: Sequence[str] = (),
    registered: Any | None = None,
    trained_at: datetime | None = None,
) -> pa.Table:
    """Fit, evaluate, compile (linear models) and build the registry row.

    Parameters
    ----------
    training_rows : pandas.DataFrame
        The training set (collected; it is a sample).
    evaluations : sequence of EvaluationSet
        Datasets to compute metrics on (e.g. ``holdout``, ``out_of_time``).
    model_name, training_set, sampling_spec
        Registry identity of the model.
    features, label, algorithm, random_state, weight, params
        See :func:`warehouse_ml.training.fit`.
    negative_downsampling_rate : float, optional
        When the model is fitted without weights on negatively downsampled rows: predictions
        (in evaluation, compiled SQL and scoring) are recalibrated with it.
    key_columns : sequence of str
        Key columns of the compiled scoring SQL.
    registered : registry table, optional
        The current registry (``dbt.this`` on an incremental run): if it already holds this
        version, nothing is returned, so the registry is append-only and idempotent.
    trained_at : datetime, optional
        Defaults to now (UTC).

    Returns
    -------
    pyarrow.Table
        Zero or one registry rows (:data:`warehouse_ml.registry.REGISTRY_SCHEMA`); the row's
        ``metrics`` column holds the long-format metrics as JSON.
    """
    trained = training.fit(
        training_rows,
        features=features,
        label=label,
        algorithm=algorithm,
        random_state=random_state,
        weight=weight,
        params=params,
        training_set=training_set,
    )
    version = registry.model_version(
        model_name=model_name,
        trained=trained,
        training_set=training_set,
        sampling_spec=sampling_spec,
        code=registry.code_version(),
    )
    if registered is not None:
        known = {(r["model_name"], r["model_version"]) for r in registry.rows_of(registered)}
        if (model_name, version) in known:
            return registry.registry_table([])
    metric_rows: list[dict[str, Any]] = []
    for evaluation in evaluations:
        if len(evaluation.rows) == 0:
            continue
        scores = _scores(trained, evaluation.rows, negative_downsampling_rate)
        labels = evaluation.rows[label].astype("int64").to_numpy()
        sample_weight = (
            evaluation.rows[evaluation.weight].to_numpy(dtype=np.float64)
            if evaluation.weight
            else None
        )
        metric_rows.extend(
            metrics.evaluate(
                labels,
                scores,
                model_name=model_name,
                model_version=version,
                dataset=evaluation.name,
                sample_weight=sample_weight,
            )
        )
    scoring_sql: dict[str, str] = {}
    if algorithm == "logistic_regression" and key_columns:
        scoring_sql = sql_compile.registry_sql(
            trained.pipeline,
            key_columns,
            negative_downsampling_rate=negative_downsampling_rate,
            integer_categoricals=trained.integer_categoricals,
        )
    row = registry.registry_row(
        trained,
        model_name=model_name,
        training_set=training_set,
        sampling_spec=sampling_spec,
        metrics={"rows": metric_rows},
        negative_downsampling_rate=negative_downsampling_rate,
        scoring_sql=scoring_sql,
        trained_at=trained_at,
    )
    return registry.registry_table([row])


def registry_metrics(*registries: Any) -> pa.Table:
    """Long-format metrics (:data:`metrics.METRICS_SCHEMA`) of every registered version."""
    rows: list[dict[str, Any]] = []
    for table in registries:
        for row in registry.rows_of(table):
            stored = json.loads(row["metrics"] or "{}")
            rows.extend(stored.get("rows", []))
    return metrics.metrics_table(rows)


def train_churn_model(
    training_set: Any,
    out_of_time: Any,
    *,
    windows: Sequence[int],
    sampling_spec: Mapping[str, Any] | None,
    random_state: int,
    registered: Any | None = None,
    training_set_name: str = "trn_churn__cluster_sample",
    params: Mapping[str, Any] | None = None,
    max_rows: int = 2_000_000,
) -> pa.Table:
    """Churn model: gradient boosting on the train split, before the out-of-time date.

    Parameters
    ----------
    training_set : table
        ``trn_churn__cluster_sample`` (columns of the churn features plus ``split`` and
        ``sample_weight``); collected, at most ``max_rows`` rows.
    out_of_time : table
        The fully labelled population rows (``fct_customer_churn_features`` where
        ``is_label_complete``); only its latest observation date is collected.
    windows : sequence of int
        ``churn_feature_windows_days``.
    sampling_spec : mapping
        Recorded in the registry and hashed into the version.
    random_state : int
        Seed of the gradient boosting.
    registered : table, optional
        The current registry, on incremental runs.

    Notes
    -----
    Training and holdout rows on or after the out-of-time date are left out, so the
    out-of-time evaluation is on a date the model has not seen. The holdout is weighted
    with ``sample_weight``; the out-of-time set is the whole population, unweighted.
    """
    sample = training.to_pandas(_collect(training_set, max_rows))
    population = training.to_pandas(
        _collect(latest_rows(out_of_time, "observation_date"), max_rows)
    )
    if len(population):
        cutoff = population["observation_date"].max()
        sample = sample[sample["observation_date"] < cutoff]
    train = sample[sample["split"] == "train"]
    holdout = sample[sample["split"] == "holdout"]
    return train_and_register(
        train,
        [
            EvaluationSet("holdout", holdout, weight="sample_weight"),
            EvaluationSet("out_of_time", population),
        ],
        model_name="churn",
        training_set=training_set_name,
        sampling_spec=sampling_spec,
        features=churn_features(windows),
        label="is_churned",
        algorithm="hist_gradient_boosting",
        random_state=random_state,
        weight="sample_weight",
        params=params,
        registered=registered,
    )


def train_ctr_model(
    training_set: Any,
    impression_features: Any,
    *,
    negative_rate: float,
    sampling_spec: Mapping[str, Any] | None,
    random_state: int,
    registered: Any | None = None,
    training_set_name: str = "trn_ctr__recent_sample",
    params: Mapping[str, Any] | None = None,
    max_rows: int = 5_000_000,
) -> pa.Table:
    """CTR model: logistic regression on the negatively downsampled sample, recalibrated.

    Fitted without weights, as in He et al. (2014), and recalibrated with
    ``q = p / (p + (1 - p) / negative_rate)``; the recalibration is part of the registered
    model (streaming scores and compiled SQL apply it).

    Evaluated on ``evaluation_day``: every impression of ``impression_features`` on the day
    after the training window. When the window reaches the last impression date (no day
    after it), the window's last day is held out instead: the model is trained on the days
    before it and evaluated on all of that day's impressions.
    """
    sample = training.to_pandas(_collect(training_set, max_rows))
    if len(sample) == 0:
        return train_and_register(
            sample, [], model_name="ctr", training_set=training_set_name,
            sampling_spec=sampling_spec, features=CTR_FEATURES, label="is_clicked",
            algorithm="logistic_regression", random_state=random_state,
        )  # fmt: skip  # raises EmptyTrainingSetError
    dates = pd.to_datetime(sample["impression_date"])
    last_day = dates.max()
    evaluation_day = last_day + pd.Timedelta(days=1)
    day = training.to_pandas(
        _collect(rows_on(impression_features, "impression_date", evaluation_day), max_rows)
    )
    if len(day) == 0:
        evaluation_day = last_day
        sample = sample[dates < last_day]
        day = training.to_pandas(
            _collect(rows_on(impression_features, "impression_date", last_day), max_rows)
        )
    spec = {**dict(sampling_spec or {}), "evaluation_day": evaluation_day.date().isoformat()}
    return train_and_register(
        sample,
        [EvaluationSet("evaluation_day", day)],
        model_name="ctr",
        training_set=training_set_name,
        sampling_spec=spec,
        features=CTR_FEATURES,
        label="is_clicked",
        algorithm="logistic_regression",
        random_state=random_state,
        params=params,
        negative_downsampling_rate=negative_rate,
        key_columns=("impression_id",),
        registered=registered,
    )


def rows_on(frame: Any, column: str, day: Any) -> Any:
    """The rows of ``frame`` whose date ``column`` equals ``day``, filtered by the engine."""
    day = pd.Timestamp(day).date()
    if isinstance(frame, pa.Table):
        frame = frame.to_pandas()
    if isinstance(frame, pd.DataFrame):
        return frame[pd.to_datetime(frame[column]).dt.date == day]
    return frame.filter(f"{column} = date '{day.isoformat()}'")


def latest_rows(frame: Any, column: str) -> Any:
    """The rows of ``frame`` whose date ``column`` equals its maximum, filtered by the engine.

    Works on pandas, Arrow, DuckDB relations and Spark DataFrames; only the filtered rows
    are ever collected.
    """
    if isinstance(frame, pa.Table):
        frame = frame.to_pandas()
    if isinstance(frame, pd.DataFrame):
        return rows_on(frame, column, frame[column].max()) if len(frame) else frame
    if engine.frame_engine(frame) == "spark":
        latest = frame.agg({column: "max"}).collect()[0][0]
    else:
        latest = frame.aggregate(f"max({column})").fetchall()[0][0]
    return frame if latest is None else rows_on(frame, column, latest)


def _collect(frame: Any, max_rows: int) -> Any:
    """A bounded table as pandas (engine tables), or the object itself (pandas/Arrow)."""
    if isinstance(frame, pd.DataFrame | pa.Table):
        return frame
    from warehouse_ml.engine import collect_bounded

    return collect_bounded(frame, max_rows)


def _relation_sql(population: Any) -> str:
    return population if isinstance(population, str) else population.sql_query()


def score_population(
    connection: Any,
    population: Any,
    registry_table: Any,
    *,
    model_name: str,
    key_columns: Sequence[str],
    probability_column: str,
    version: str | None = None,
    scored_at: datetime | None = None,
    batch_size: int = scoring.DEFAULT_BATCH_SIZE,
) -> pa.RecordBatchReader:
    """Stream-score a DuckDB population with a registered model (newest or pinned).

    Returns a RecordBatchReader with ``key_columns``, ``probability_column``,
    ``model_version`` and ``scored_at``; the population is read through a separate cursor
    (see :func:`warehouse_ml.scoring.duckdb_reader`).
    """
    model = registry.load_model(registry_table, model_name, config_version(version))
    when = (scored_at or datetime.now(UTC)).replace(tzinfo=None)
    return scoring.score_reader(
        scoring.duckdb_reader(connection, population, batch_size),
        model,
        key_columns=key_columns,
        probability_column=probability_column,
        constants={
            "model_version": model.model_version,
            "scored_at": pa.scalar(when, pa.timestamp("us")),
        },
    )


def _is_spark(frame: Any) -> bool:
    """True for a Spark DataFrame; False for a DuckDB relation or SQL text (the DuckDB path)."""
    return not isinstance(frame, str) and engine.frame_engine(frame) == "spark"


def spark_scores(
    population: Any,
    registry_table: Any,
    *,
    model_name: str,
    key_columns: Sequence[str],
    probability_column: str,
    version: str | None = None,
    scored_at: datetime | None = None,
) -> Any:
    """Score a Spark DataFrame with ``mapInPandas``: the model is pickled to the executors
    once per task and every Arrow batch is scored there; nothing is collected.

    Same columns as :func:`score_population`.
    """
    from pyspark.sql import functions as spark_functions
    from pyspark.sql.types import DoubleType, StructField, StructType

    model = registry.load_model(registry_table, model_name, config_version(version))
    scoring.check_schema(
        pa.schema(
            [(f.name, _spark_to_arrow(f.dataType.simpleString())) for f in population.schema]
        ),
        model.features,
        key_columns,
    )
    predictor = scoring.BatchPredictor(model)
    keys = list(key_columns)
    schema = StructType(
        [population.schema[k] for k in keys] + [StructField(probability_column, DoubleType())]
    )

    def score(batches: Any) -> Any:
        for batch in batches:
            yield batch[keys].assign(**{probability_column: predictor.predict_pandas(batch)})

    when = (scored_at or datetime.now(UTC)).replace(tzinfo=None)
    return (
        population.mapInPandas(score, schema=schema)
        .withColumn("model_version", spark_functions.lit(model.model_version))
        .withColumn("scored_at", spark_functions.lit(when).cast("timestamp"))
    )


def _spark_to_arrow(type_name: str) -> pa.DataType:
    """Arrow type standing for a Spark simple type name, for :func:`scoring.check_schema`."""
    mapping = {
        "tinyint": pa.int8(),
        "smallint": pa.int16(),
        "int": pa.int32(),
        "bigint": pa.int64(),
        "float": pa.float32(),
        "double": pa.float64(),
        "boolean": pa.bool_(),
        "string": pa.string(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
        "timestamp_ntz": pa.timestamp("us"),
        "void": pa.null(),
    }
    if type_name.startswith("decimal"):
        return pa.float64()
    return mapping.get(type_name, pa.binary())


def churn_scores(
    connection: Any,
    churn_features: Any,
    registry_table: Any,
    *,
    version: str | None = None,
    scored_at: datetime | None = None,
) -> Any:
    """Every customer at the latest observation date, scored (DuckDB or Spark).

    DuckDB: streams the population in Arrow batches through the churn model and ranks the
    scores into ``risk_decile`` (1 = highest risk) in DuckDB, so Python never holds the
    population. Spark: the same with ``mapInPandas`` (:func:`spark_scores`) and ``ntile``.
    Columns: customer_id, observation_date, churn_probability, risk_decile, model_version,
    scored_at.
    """
    if _is_spark(churn_features):
        from pyspark.sql import Window
        from pyspark.sql import functions as spark_functions

        scored = spark_scores(
            latest_rows(churn_features, "observation_date"),
            registry_table,
            model_name="churn",
            key_columns=("customer_id", "observation_date"),
            probability_column="churn_probability",
            version=version,
            scored_at=scored_at,
        )
        ranking = Window.orderBy(
            spark_functions.desc("churn_probability"), spark_functions.asc("customer_id")
        )
        return scored.select(
            "customer_id",
            "observation_date",
            "churn_probability",
            spark_functions.ntile(10).over(ranking).cast("int").alias("risk_decile"),
            "model_version",
            "scored_at",
        )
    features = _relation_sql(churn_features)
    population = (
        f"select * from ({features}) as features "
        f"where observation_date = (select max(observation_date) from ({features}) as dates)"
    )
    reader = score_population(
        connection,
        population,
        registry_table,
        model_name="churn",
        key_columns=("customer_id", "observation_date"),
        probability_column="churn_probability",
        version=version,
        scored_at=scored_at,
    )
    name = f"__churn_scores_{id(reader)}"
    connection.register(name, reader)
    return connection.sql(
        "select customer_id, observation_date, churn_probability, "
        "cast(ntile(10) over (order by churn_probability desc, customer_id) as integer) "
        f"as risk_decile, model_version, scored_at from {name}"
    )


def ctr_predictions(
    connection: Any,
    impression_features: Any,
    registry_table: Any,
    *,
    window_days: int,
    version: str | None = None,
    scored_at: datetime | None = None,
) -> Any:
    """Predicted vs observed CTR per ad x placement x day over the last ``window_days`` days.

    Every impression of the window is scored (streamed, recalibrated as registered) and
    aggregated by the engine (DuckDB, or Spark through :func:`spark_scores`). Columns:
    ad_id, placement, impression_date, impressions, clicks, observed_click_through_rate,
    predicted_click_through_rate, model_version, scored_at.
    """
    if window_days < 1:
        raise ValueError(f"window_days must be >= 1, got {window_days}")
    if _is_spark(impression_features):
        from pyspark.sql import functions as spark_functions

        last = impression_features.agg({"impression_date": "max"}).collect()[0][0]
        window = impression_features.filter(
            f"impression_date > date_sub(date '{last.isoformat()}', {int(window_days)})"
        )
        scored = spark_scores(
            window,
            registry_table,
            model_name="ctr",
            key_columns=("ad_id", "placement", "impression_date", "is_clicked"),
            probability_column="click_probability",
            version=version,
            scored_at=scored_at,
        )
        clicked = spark_functions.col("is_clicked").cast("int")
        return scored.groupBy("ad_id", "placement", "impression_date").agg(
            spark_functions.count(spark_functions.lit(1)).alias("impressions"),
            spark_functions.sum(clicked).alias("clicks"),
            spark_functions.avg(clicked.cast("double")).alias("observed_click_through_rate"),
            spark_functions.avg("click_probability").alias("predicted_click_through_rate"),
            spark_functions.first("model_version").alias("model_version"),
            spark_functions.first("scored_at").alias("scored_at"),
        )
    features = _relation_sql(impression_features)
    population = (
        f"select * from ({features}) as features where impression_date > "
        f"(select max(impression_date) from ({features}) as dates) - {int(window_days)}"
    )
    reader = score_population(
        connection,
        population,
        registry_table,
        model_name="ctr",
        key_columns=("ad_id", "placement", "impression_date", "is_clicked"),
        probability_column="click_probability",
        version=version,
        scored_at=scored_at,
    )
    name = f"__ctr_scores_{id(reader)}"
    connection.register(name, reader)
    return connection.sql(
        "select ad_id, placement, impression_date, "
        "count(*) as impressions, "
        "sum(cast(is_clicked as integer)) as clicks, "
        "avg(cast(is_clicked as double)) as observed_click_through_rate, "
        "avg(click_probability) as predicted_click_through_rate, "
        "any_value(model_version) as model_version, any_value(scored_at) as scored_at "
        f"from {name} group by ad_id, placement, impression_date"
    )
