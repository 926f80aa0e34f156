"""warehouse_ml.sql_compile: SQL scores equal scikit-learn's (DuckDB; Spark when marked)."""

from __future__ import annotations

import math
import os
import re
import sys

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from _ml_synthetic import FEATURES, synthetic_frame

from warehouse_ml import sql_compile, training
from warehouse_ml.errors import UnsupportedPipelineError


@pytest.fixture(scope="module")
def linear():
    return training.fit(
        synthetic_frame(2_000, seed=31),
        features=FEATURES,
        label="is_churned",
        weight="weight",
        algorithm="logistic_regression",
        random_state=1,
    )


@pytest.fixture(scope="module")
def population():
    frame = synthetic_frame(3_000, seed=32).drop(columns=["is_churned", "weight"])
    frame.loc[:9, "segment"] = "it's new"  # unseen category with a quote
    frame.loc[10:19, "hour"] = 99  # unseen integer category
    frame.loc[20:29, "spend_90d"] = np.nan  # nulls unseen in training for this column
    return frame


def duckdb_scores(frame: pd.DataFrame, sql: str) -> np.ndarray:
    con = duckdb.connect()
    con.register("population", frame)
    return con.sql(f"select * from ({sql}) order by customer_id")["probability"].fetchnumpy()[
        "probability"
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.25, "0.25e0"), (-1e-05, "(-1e-05)"), (3.0, "3.0e0"), (1.5e300, "1.5e+300")],
)
def test_double_literals(value, text):
    assert sql_compile.sql_double(value) == text
    con = duckdb.connect()
    assert con.sql(f"select typeof({text}), {text}").fetchall() == [("DOUBLE", value)]


def test_non_finite_literal_is_refused():
    with pytest.raises(ValueError, match="non-finite"):
        sql_compile.sql_double(math.inf)


def test_linear_logit_holds_the_fitted_numbers(linear):
    logit = sql_compile.linear_logit(linear.pipeline)
    model = linear.pipeline.named_steps["model"]
    scaler = linear.pipeline.named_steps["preprocess"].named_transformers_["numeric"]["scale"]
    assert logit.intercept == model.intercept_[0]
    assert [t.column for t in logit.numeric] == ["tenure_days", "spend_90d"]
    assert logit.numeric[1].mean == scaler.mean_[1]
    assert logit.numeric[0].coef == model.coef_[0][0]
    assert logit.categorical[0].column == "segment"
    assert training.MISSING_CATEGORY in logit.categorical[0].categories
    assert logit.categorical[1].categories[:3] == ("0", "1", "10")  # sorted as strings


@pytest.mark.parametrize("rate", [None, 0.05])
def test_duckdb_scores_equal_scikit_learn(linear, population, rate):
    sql = sql_compile.scoring_query(
        linear.pipeline, "population", ["customer_id"], negative_downsampling_rate=rate
    )
    expected = linear.predict_proba(population)
    if rate is not None:
        expected = training.recalibrate_downsampled(expected, rate)
    np.testing.assert_allclose(duckdb_scores(population, sql), expected, rtol=0, atol=1e-6)
    assert np.abs(duckdb_scores(population, sql) - expected).max() < 1e-12


@pytest.mark.parametrize("max_case_categories", [0, 4, 100])
@pytest.mark.parametrize("integer_hour", [False, True])
def test_scoring_query_equals_scikit_learn(linear, population, max_case_categories, integer_hour):
    frame = population.copy()
    frame["hour"] = frame["hour"].astype("Int64")
    frame.loc[30:39, "hour"] = pd.NA  # null integer category, unseen in training
    assert linear.integer_categoricals == ("hour",)
    sql = sql_compile.scoring_query(
        linear.pipeline,
        "population",
        ["customer_id"],
        negative_downsampling_rate=0.5,
        max_case_categories=max_case_categories,
        integer_categoricals=linear.integer_categoricals if integer_hour else (),
    )
    assert sql.count("left join") == {0: 2, 4: 1, 100: 0}[max_case_categories]
    expected = training.recalibrate_downsampled(linear.predict_proba(frame), 0.5)
    np.testing.assert_allclose(duckdb_scores(frame, sql), expected, rtol=0, atol=1e-12)


def test_registry_sql_renders_for_each_engine(linear, population):
    stored = sql_compile.registry_sql(
        linear.pipeline, ["customer_id"], integer_categoricals=linear.integer_categoricals
    )
    assert set(stored) == {"duckdb", "spark"}
    assert sql_compile.POPULATION_PLACEHOLDER in stored["spark"]
    sql = sql_compile.render(stored["duckdb"], "population")
    np.testing.assert_allclose(
        duckdb_scores(population, sql), linear.predict_proba(population), atol=1e-12
    )
    with pytest.raises(ValueError, match="no __population__ placeholder"):
        sql_compile.render("select 1", "population")


def test_spark_sql_writes_doubles_and_escapes_strings(linear):
    sql = sql_compile.scoring_query(
        linear.pipeline, "population", ["customer_id"], dialect="spark", max_case_categories=100
    )
    without_strings = re.sub(r"'(?:[^'\\]|\\.)*'", "''", sql)
    numbers = re.findall(r"(?<![\w.])\d+\.?\d*(?:e[+-]?\d+)?", without_strings)
    assert numbers and all("e" in n for n in numbers), numbers
    assert "cast(population.segment as string)" in sql
    assert sql_compile._string_literal("it's", "spark") == "'it\\'s'"
    assert sql_compile._string_literal("it's", "duckdb") == "'it''s'"


def test_tree_pipeline_does_not_compile():
    boosted = training.fit(
        synthetic_frame(300),
        features=FEATURES,
        label="is_churned",
        algorithm="hist_gradient_boosting",
        random_state=1,
        params={"max_iter": 5},
    )
    with pytest.raises(UnsupportedPipelineError, match="HistGradientBoostingClassifier"):
        sql_compile.scoring_query(boosted.pipeline, "population", ["customer_id"])


def test_odd_column_names_are_refused(linear):
    with pytest.raises(UnsupportedPipelineError, match="'customer id' is not a plain identifier"):
        sql_compile.scoring_query(linear.pipeline, "population", ["customer id"])


def test_unknown_dialect_is_refused(linear):
    with pytest.raises(ValueError, match="dialect 'oracle' is not supported"):
        sql_compile.scoring_query(linear.pipeline, "population", ["customer_id"], dialect="oracle")


def test_agrees_with_orbital(population):
    """Cross-check with posit-dev/orbital on a string-only linear pipeline."""
    orbital = pytest.importorskip("orbital")
    import orbital.types as orbital_types

    features = training.FeatureSpec(numeric=("spend_90d",), categorical=("segment",))
    train = synthetic_frame(1_000, seed=33)
    train["segment"] = train["segment"].fillna("consumer")
    trained = training.fit(
        train, features=features, label="is_churned", algorithm="logistic_regression",
        random_state=0, params={"C": 0.5},
    )  # fmt: skip
    trained.pipeline.steps[0][1].transformers_[0][1].steps.pop(0)  # orbital: no imputer
    frame = population[["customer_id", "spend_90d", "segment"]].iloc[30:].copy()
    frame["segment"] = frame["segment"].fillna("consumer")
    parsed = orbital.parse_pipeline(
        trained.pipeline,
        features={
            "spend_90d": orbital_types.DoubleColumnType(),
            "segment": orbital_types.StringColumnType(),
        },
    )
    con = duckdb.connect()
    con.register("population", frame)
    theirs = con.sql(orbital.export_sql("population", parsed, dialect="duckdb")).df()
    ours = duckdb_scores(
        frame,
        sql_compile.scoring_query(trained.pipeline, "population", ["customer_id"]),
    )
    np.testing.assert_allclose(ours, theirs["output_probability.1"].to_numpy(), atol=1e-9)


@pytest.mark.spark
def test_spark_scores_equal_scikit_learn(linear, population, tmp_path):
    pyspark_sql = pytest.importorskip("pyspark.sql")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("warehouse_ml-sql-compile")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.warehouse.dir", str(tmp_path / "warehouse"))
        .getOrCreate()
    )
    frame = population.assign(tenure_days=population["tenure_days"].astype("float64"))
    rows = frame.astype({"segment": object, "tenure_days": object, "spend_90d": object})
    rows = rows.where(rows.notna(), None)
    schema = "customer_id bigint, tenure_days double, spend_90d double, segment string, hour bigint"
    spark.createDataFrame(rows, schema=schema).createOrReplaceTempView("population")
    queries = {
        "cases": sql_compile.scoring_query(
            linear.pipeline,
            "population",
            ["customer_id"],
            dialect="spark",
            negative_downsampling_rate=0.05,
            max_case_categories=100,
        ),
        "joins": sql_compile.render(
            sql_compile.registry_sql(
                linear.pipeline,
                ["customer_id"],
                negative_downsampling_rate=0.05,
                integer_categoricals=linear.integer_categoricals,
            )["spark"],
            "population",
        ),
    }
    expected = training.recalibrate_downsampled(linear.predict_proba(population), 0.05)
    try:
        for name, sql in queries.items():
            scores = spark.sql(f"select * from ({sql}) order by customer_id").toPandas()
            np.testing.assert_allclose(
                scores["probability"].to_numpy(), expected, rtol=0, atol=1e-6, err_msg=name
            )
    finally:
        spark.stop()


def test_boolean_numeric_feature_scores_alike_everywhere():
    from warehouse_ml import scoring

    features = training.FeatureSpec(numeric=("spend_90d", "is_flagged"), categorical=("segment",))
    frame = synthetic_frame(1_500, seed=34)
    frame["is_flagged"] = pd.array(frame["customer_id"] % 3 == 0, dtype="boolean")
    frame.loc[:4, "is_flagged"] = pd.NA
    trained = training.fit(
        frame, features=features, label="is_churned", algorithm="logistic_regression",
        random_state=0,
    )  # fmt: skip
    expected = trained.predict_proba(frame)
    sql = sql_compile.render(
        sql_compile.registry_sql(trained.pipeline, ["customer_id"])["duckdb"], "population"
    )
    np.testing.assert_allclose(duckdb_scores(frame, sql), expected, atol=1e-12)
    streamed = scoring.score_reader(
        pa.Table.from_pandas(frame, preserve_index=False), trained, key_columns=["customer_id"]
    ).read_all()
    np.testing.assert_allclose(streamed["probability"].to_numpy(), expected, atol=1e-12)
