"""warehouse_ml.modeling: the calls behind the dbt Python models, on DuckDB."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from warehouse_ml import modeling, registry

WINDOWS = (30, 90)


def churn_frame(customers: int = 400, dates: int = 4, seed: int = 0) -> pd.DataFrame:
    """Customer x observation-date rows with the churn feature columns and a known signal."""
    rng = np.random.default_rng(seed)
    spec = modeling.churn_features(WINDOWS)
    n = customers * dates
    frame = pd.DataFrame(
        {
            "customer_id": np.repeat(np.arange(1, customers + 1), dates),
            "observation_date": np.tile(
                pd.date_range("2025-01-31", periods=dates, freq="ME").date, customers
            ),
        }
    )
    for column in spec.numeric:
        frame[column] = rng.gamma(2.0, 10.0, n)
    frame["segment"] = rng.choice(["consumer", "small_business", "enterprise"], n)
    frame["region"] = rng.choice(["north", "south"], n)
    frame["acquisition_channel"] = rng.choice(["organic", "paid_search"], n)
    logit = 0.08 * (frame["recency_days"] - 20) - 0.5
    frame["is_churned"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame["split"] = np.where(frame["customer_id"] % 5 == 0, "holdout", "train")
    frame["sample_weight"] = 2.0
    return frame


def impression_frame(n: int = 20_000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "impression_id": np.arange(n, dtype=np.int64),
            "impression_date": pd.Timestamp("2025-12-01")
            + pd.to_timedelta(rng.integers(0, 10, n), unit="D"),
            "ad_id": rng.integers(1, 30, n),
            "placement": rng.choice(["feed", "search", "video"], n),
            "device": rng.choice(["mobile", "desktop"], n),
            "impression_hour": rng.integers(0, 24, n),
        }
    )
    frame["impression_date"] = pd.to_datetime(frame["impression_date"]).dt.date
    for column in modeling.CTR_FEATURES.numeric:
        frame[column] = rng.random(n)
    frame["is_new_category"] = rng.random(n) < 0.1
    logit = -3.5 + 2.0 * frame["ad_previous_smoothed_click_through_rate_7d"]
    logit += np.where(frame["placement"] == "search", 1.0, 0.0)
    frame["is_clicked"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    return frame


@pytest.fixture(scope="module")
def churn_registry():
    frame = churn_frame()
    return modeling.train_churn_model(
        frame,
        frame,
        windows=WINDOWS,
        sampling_spec={"design": "cluster"},
        random_state=0,
        params={"max_iter": 30},
    )


def test_churn_model_is_registered_with_metrics(churn_registry):
    assert churn_registry.num_rows == 1
    row = churn_registry.to_pylist()[0]
    assert row["model_name"] == "churn" and row["algorithm"] == "hist_gradient_boosting"
    # Training rows: the train split before the latest date (3 of 4 dates, 4 of 5 customers).
    assert row["row_count"] == 320 * 3
    assert row["scoring_sql_duckdb"] is None  # trees are scored by streaming
    metric_rows = json.loads(row["metrics"])["rows"]
    by_dataset = {(r["dataset"], r["metric"]): r["value"] for r in metric_rows if r["bin"] is None}
    assert by_dataset[("out_of_time", "row_count")] == 400  # every customer at the latest date
    assert by_dataset[("holdout", "row_count")] == 80 * 3
    assert by_dataset[("holdout", "roc_auc")] > 0.7


def test_unchanged_retrain_appends_nothing(churn_registry):
    frame = churn_frame()
    again = modeling.train_churn_model(
        frame,
        frame,
        windows=WINDOWS,
        sampling_spec={"design": "cluster"},
        random_state=0,
        params={"max_iter": 30},
        registered=churn_registry,
    )
    assert again.num_rows == 0
    assert again.schema == registry.REGISTRY_SCHEMA


def test_registry_metrics_is_long_format(churn_registry):
    table = modeling.registry_metrics(churn_registry)
    frame = table.to_pandas()
    assert set(frame["dataset"]) == {"holdout", "out_of_time"}
    assert (frame["model_version"] == churn_registry["model_version"][0].as_py()).all()
    assert frame.query("metric == 'lift'")["bin"].tolist() == list(range(1, 11)) * 2


def test_churn_scores_rank_every_customer(churn_registry):
    con = duckdb.connect()
    con.register("features_frame", churn_frame(seed=5))
    con.execute("create table features as select * from features_frame")
    con.register("registry_rows", churn_registry)
    con.execute("create table ml_churn_model as select * from registry_rows")
    scores = modeling.churn_scores(
        con,
        con.sql("select * from features"),
        con.sql("select * from ml_churn_model"),
        scored_at=dt.datetime(2026, 1, 1),
    )
    con.register("scores_relation", scores)
    con.execute("create table churn_scores as select * from scores_relation")
    result = con.sql("select * from churn_scores").df()
    assert len(result) == 400 and result["customer_id"].is_unique
    assert (result["observation_date"] == result["observation_date"].max()).all()
    counts = result["risk_decile"].value_counts().sort_index()
    assert counts.tolist() == [40] * 10
    top = result[result["risk_decile"] == 1]["churn_probability"].min()
    assert top >= result[result["risk_decile"] == 2]["churn_probability"].max()
    assert result["scored_at"].iloc[0] == pd.Timestamp("2026-01-01")


def test_ctr_model_recalibrated_and_predictions_aggregated():
    population = impression_frame()
    rng = np.random.default_rng(2)
    keep = population["is_clicked"] | (rng.random(len(population)) < 0.2)
    ctr_registry = modeling.train_ctr_model(
        population[keep],
        population,
        negative_rate=0.2,
        sampling_spec={"design": "negative downsampling", "negative_rate": 0.2},
        random_state=0,
    )
    row = ctr_registry.to_pylist()[0]
    assert row["negative_downsampling_rate"] == 0.2
    # No impressions after the window: its last day is held out and evaluated on.
    assert json.loads(row["sampling_spec"])["evaluation_day"] == "2025-12-10"
    last_day = population["impression_date"] == population["impression_date"].max()
    assert row["row_count"] == int((keep & ~last_day).sum())
    assert "__population__" in row["scoring_sql_duckdb"]
    summary = {
        r["metric"]: r["value"] for r in json.loads(row["metrics"])["rows"] if r["bin"] is None
    }
    assert summary["row_count"] == int(last_day.sum())
    assert summary["calibration"] == pytest.approx(1.0, abs=0.15)

    con = duckdb.connect()
    con.register("impressions_frame", population)
    con.execute("create table impressions as select * from impressions_frame")
    con.register("registry_rows", ctr_registry)
    con.execute("create table ml_ctr_model as select * from registry_rows")
    predictions = modeling.ctr_predictions(
        con, con.sql("select * from impressions"), con.sql("select * from ml_ctr_model"),
        window_days=3,
    )  # fmt: skip
    result = predictions.df()
    assert result["impression_date"].nunique() == 3
    window = population[population["impression_date"] >= population["impression_date"].max()
                        - dt.timedelta(days=2)]  # fmt: skip
    assert result["impressions"].sum() == len(window)
    assert result["clicks"].sum() == int(window["is_clicked"].sum())
    predicted = (result["predicted_click_through_rate"] * result["impressions"]).sum()
    assert predicted / len(window) == pytest.approx(window["is_clicked"].mean(), rel=0.1)
    sql = con.sql(
        "select * from ("
        + row["scoring_sql_duckdb"].replace("__population__", "impressions")
        + ") order by impression_id"
    ).df()
    assert sql["probability"].mean() == pytest.approx(window["is_clicked"].mean(), rel=0.2)


def test_latest_rows_filters_in_the_engine():
    frame = churn_frame(customers=10, dates=3)[["customer_id", "observation_date"]]
    con = duckdb.connect()
    con.register("frame_rows", frame)
    latest = modeling.latest_rows(con.sql("select * from frame_rows"), "observation_date")
    result = latest.df()
    assert len(result) == 10
    assert {pd.Timestamp(d).date() for d in result["observation_date"]} == {dt.date(2025, 3, 31)}
    assert len(modeling.latest_rows(frame, "observation_date")) == 10


def test_ctr_model_evaluates_on_the_day_after_the_window():
    population = impression_frame(8_000, seed=3)
    dates = pd.to_datetime(population["impression_date"])
    window = population[dates <= pd.Timestamp("2025-12-05")]
    ctr_registry = modeling.train_ctr_model(
        window, population, negative_rate=1.0, sampling_spec={}, random_state=0
    )
    row = ctr_registry.to_pylist()[0]
    assert json.loads(row["sampling_spec"])["evaluation_day"] == "2025-12-06"
    assert row["row_count"] == len(window)
    rows = json.loads(row["metrics"])["rows"]
    count = next(r["value"] for r in rows if r["metric"] == "row_count")
    assert count == int((dates == pd.Timestamp("2025-12-06")).sum())


@pytest.mark.spark
def test_spark_scores_equal_duckdb_scores(churn_registry, tmp_path):
    pyspark_sql = pytest.importorskip("pyspark.sql")
    import os
    import sys

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("warehouse_ml-modeling")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.warehouse.dir", str(tmp_path / "warehouse"))
        .getOrCreate()
    )
    try:
        features = churn_frame(seed=5)
        population = impression_frame(6_000, seed=7)
        keep = population["is_clicked"] | (np.random.default_rng(8).random(len(population)) < 0.3)
        ctr_registry = modeling.train_ctr_model(
            population[keep], population, negative_rate=0.3, sampling_spec={}, random_state=0
        )
        con = duckdb.connect()
        for name, frame in [("features", features), ("impressions", population)]:
            con.register(f"{name}_frame", frame)
            con.execute(f"create table {name} as select * from {name}_frame")
        when = dt.datetime(2026, 1, 1)
        expected_churn = modeling.churn_scores(
            con, con.sql("select * from features"), churn_registry, scored_at=when
        ).df()
        expected_ctr = modeling.ctr_predictions(
            con, con.sql("select * from impressions"), ctr_registry, window_days=3, scored_at=when
        ).df()

        def to_spark(table: str):
            return spark.createDataFrame(con.sql(f"select * from {table}").to_arrow_table())

        registry_rows = spark.createDataFrame(churn_registry.to_pandas())
        churn = modeling.churn_scores(
            spark, to_spark("features"), registry_rows, scored_at=when
        ).toPandas()
        ctr = modeling.ctr_predictions(
            spark,
            to_spark("impressions"),
            spark.createDataFrame(ctr_registry.to_pandas()),
            window_days=3,
            scored_at=when,
        ).toPandas()
    finally:
        spark.stop()
    churn = churn.sort_values("customer_id").reset_index(drop=True)
    expected_churn = expected_churn.sort_values("customer_id").reset_index(drop=True)
    np.testing.assert_allclose(churn["churn_probability"], expected_churn["churn_probability"])
    assert churn["risk_decile"].tolist() == expected_churn["risk_decile"].tolist()
    keys = ["ad_id", "placement", "impression_date"]
    ctr = ctr.sort_values(keys).reset_index(drop=True)
    expected_ctr = expected_ctr.sort_values(keys).reset_index(drop=True)
    assert ctr["impressions"].tolist() == expected_ctr["impressions"].tolist()
    np.testing.assert_allclose(
        ctr["predicted_click_through_rate"],
        expected_ctr["predicted_click_through_rate"],
        atol=1e-12,
    )
