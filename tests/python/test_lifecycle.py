"""warehouse_ml.lifecycle, churn and ctr: the calls behind the dbt Python models, on DuckDB."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from _ml_synthetic import churn_frame, impression_frame
from _ml_synthetic import spec_row as synthetic_spec_row

from warehouse_ml import churn, ctr, lifecycle, registry, specs
from warehouse_ml.errors import (
    EmptyTrainingSetError,
    ModelSpecError,
    ModelVersionNotFoundError,
    SingleClassLabelError,
)


def spec_row(model_name: str = "churn", **overrides: object) -> dict[str, object]:
    """``_ml_synthetic.spec_row`` with the ``random_state`` and ``spec_fingerprint`` columns."""
    columns = {"random_state": 0, "spec_fingerprint": f"{model_name}-spec-0", **overrides}
    return synthetic_spec_row(model_name, **columns)


CHURN = specs.from_row(spec_row("churn"))
CTR = specs.from_row(spec_row("ctr"))


def tables(connection: duckdb.DuckDBPyConnection, **frames: pd.DataFrame) -> dict:
    """Each frame as a DuckDB table of that name, returned as relations (what dbt.ref gives)."""
    relations = {}
    for name, frame in frames.items():
        connection.register(f"{name}_frame", frame)
        connection.execute(f"create or replace table {name} as select * from {name}_frame")
        relations[name] = connection.sql(f"select * from {name}")
    return relations


def churn_relations(connection):
    sample = churn_frame(dates=3)
    out_of_time = churn_frame(dates=4, seed=9).query(
        "observation_date == @pd.Timestamp('2025-04-30').date()"
    )
    return tables(
        connection,
        trn_churn__cluster_sample=sample,
        ml_churn_evaluation_out_of_time=out_of_time.drop(columns=["split", "sample_weight"]),
    )


def versions_table(*rows: tuple[str, str]) -> pa.Table:
    """Champion rows of ml_model_aliases (plus a challenger that must not be scored with)."""
    return pa.table(
        {
            "model_name": [r[0] for r in rows] + [r[0] for r in rows],
            "alias": ["champion"] * len(rows) + ["challenger"] * len(rows),
            "model_version": [r[1] for r in rows] + ["0123456789abcdef"] * len(rows),
            "resolved_by": ["first_version"] * len(rows) + ["kept"] * len(rows),
        }
    )


@pytest.fixture(scope="module")
def connection():
    con = duckdb.connect()
    yield con
    con.close()


@pytest.fixture(scope="module")
def churn_registry(connection):
    return lifecycle.train_and_register(
        CHURN, churn_relations(connection), trained_at=dt.datetime(2026, 1, 1)
    )


def test_churn_model_trains_on_the_train_split_and_evaluates_on_the_spec_sets(churn_registry):
    assert churn_registry.num_rows == 1
    row = churn_registry.to_pylist()[0]
    assert row["model_name"] == "churn" and row["algorithm"] == "hist_gradient_boosting"
    assert row["row_count"] == 320 * 3  # the train split: 4 of 5 customers, every date given
    assert row["weight_sum"] == 2.0 * 320 * 3
    assert json.loads(row["sampling_spec"]) == CHURN.sampling_spec  # whole, from the spec
    assert json.loads(row["hyperparameters"])["max_iter"] == 30  # the spec's params
    assert [f["name"] for f in json.loads(row["features"])] == list(CHURN.features.columns)
    assert row["scoring_sql_duckdb"] is None  # trees are scored by streaming
    metric_rows = json.loads(row["metrics"])["rows"]
    by_dataset = {(r["dataset"], r["metric"]): r["value"] for r in metric_rows if r["bin"] is None}
    assert by_dataset[("out_of_time", "row_count")] == 400  # the relation, unfiltered
    assert by_dataset[("out_of_time", "weight_sum")] == 400  # unweighted
    assert by_dataset[("holdout", "row_count")] == 80 * 3
    assert by_dataset[("holdout", "weight_sum")] == 2.0 * 80 * 3  # weighted by sample_weight
    assert by_dataset[("holdout", "roc_auc")] > 0.7


def test_unchanged_retrain_appends_nothing(connection, churn_registry):
    again = lifecycle.train_and_register(
        CHURN, churn_relations(connection), registered=churn_registry
    )
    assert again.num_rows == 0
    assert again.schema == registry.REGISTRY_SCHEMA
    other_seed = specs.from_row(spec_row("churn", random_state=1, spec_fingerprint="seed-1"))
    reseeded = lifecycle.train_and_register(
        other_seed, churn_relations(connection), registered=churn_registry
    )
    assert reseeded.num_rows == 1
    assert reseeded["random_state"].to_pylist() == [1]  # the spec's seed


def shuffled(frame: pd.DataFrame, seed: int | None) -> pd.DataFrame:
    """The rows of ``frame`` in a seeded random order (as given when ``seed`` is None)."""
    return frame if seed is None else frame.sample(frac=1.0, random_state=seed)


def test_training_and_evaluation_do_not_depend_on_the_row_order_the_engine_returns():
    """Rows collected in another order: the same version, fingerprint and metrics, bit for bit."""
    sample = churn_frame(dates=3)
    out_of_time = churn_frame(dates=4, seed=9).query(
        "observation_date == @pd.Timestamp('2025-04-30').date()"
    )
    out_of_time = out_of_time.drop(columns=["split", "sample_weight"])
    rows = []
    for seed in (None, 1, 2):
        with duckdb.connect() as con:
            relations = tables(
                con,
                trn_churn__cluster_sample=shuffled(sample, seed),
                ml_churn_evaluation_out_of_time=shuffled(out_of_time, seed),
            )
            registered = lifecycle.train_and_register(
                CHURN, relations, trained_at=dt.datetime(2026, 1, 1)
            )
        rows.append(registered.to_pylist()[0])
    for row in rows[1:]:
        for column in ("model_version", "data_fingerprint", "weight_sum", "metrics"):
            assert row[column] == rows[0][column], column


def test_canonical_order_sorts_by_the_key_columns_then_the_rest():
    frame = pd.DataFrame(
        {
            "value": [2.0, 1.0, np.nan, 3.0],
            "observation_date": [dt.date(2025, 1, 2), dt.date(2025, 1, 1)] * 2,
            "customer_id": [2, 1, 1, 1],
            "tags": [[1], [2], [3], [4]],
        }
    )
    ordered = lifecycle.canonical_order(CHURN, frame)
    assert list(ordered["customer_id"]) == [1, 1, 1, 2]
    assert (
        list(ordered["observation_date"]) == [dt.date(2025, 1, 1)] * 2 + [dt.date(2025, 1, 2)] * 2
    )
    assert ordered["value"].tolist()[:2] == [1.0, 3.0]  # the tie broken by the other columns
    assert list(ordered.index) == [0, 1, 2, 3]


def test_the_registry_row_carries_the_spec_fingerprint(churn_registry):
    assert churn_registry["spec_fingerprint"].to_pylist() == [CHURN.spec_fingerprint]
    assert churn_registry["random_state"].to_pylist() == [CHURN.random_state]


def test_a_changed_spec_fingerprint_alone_gives_a_new_version(connection, churn_registry):
    """Whatever the fingerprint covers that the fitted pipeline does not show still versions."""
    changed = specs.from_row(spec_row("churn", spec_fingerprint="churn-spec-1"))
    again = lifecycle.train_and_register(
        changed, churn_relations(connection), registered=churn_registry
    )
    assert again.num_rows == 1
    assert again["model_version"][0] != churn_registry["model_version"][0]
    assert again["spec_fingerprint"].to_pylist() == ["churn-spec-1"]


def test_refs_that_differ_from_the_spec_are_refused(connection):
    relations = churn_relations(connection)
    relations["fct_customer_churn_features"] = relations.pop("ml_churn_evaluation_out_of_time")
    with pytest.raises(ModelSpecError, match="missing: \\['ml_churn_evaluation_out_of_time'\\]"):
        lifecycle.train_and_register(CHURN, relations)


def test_evaluation_split_on_a_relation_without_split_names_model_set_and_column(connection):
    relations = churn_relations(connection)
    sample = churn_frame(dates=3).drop(columns=["split"])
    no_split = tables(connection, no_split_sample=sample)["no_split_sample"]
    with pytest.raises(
        ModelSpecError,
        match=(
            "model 'churn', evaluation set 'holdout': split 'holdout' needs a 'split' column, "
            "which relation 'trn_churn__cluster_sample' lacks"
        ),
    ):
        lifecycle.train_and_register(CHURN, {**relations, "trn_churn__cluster_sample": no_split})


def test_empty_and_single_class_training_sets_name_the_training_set(connection):
    relations = churn_relations(connection)
    frame = churn_frame(customers=20, dates=1)
    empty = tables(connection, empty_sample=frame.assign(split="holdout"))["empty_sample"]
    with pytest.raises(
        EmptyTrainingSetError, match="'trn_churn__cluster_sample \\(split = 'train'\\)'"
    ):
        lifecycle.train_and_register(CHURN, {**relations, "trn_churn__cluster_sample": empty})
    single = tables(connection, single=frame.assign(is_churned=False))["single"]
    with pytest.raises(SingleClassLabelError, match="trn_churn__cluster_sample"):
        lifecycle.train_and_register(CHURN, {**relations, "trn_churn__cluster_sample": single})


def test_registered_metrics_is_long_format(churn_registry):
    frame = registry.registered_metrics(churn_registry).to_pandas()
    assert set(frame["dataset"]) == {"holdout", "out_of_time"}
    assert (frame["model_version"] == churn_registry["model_version"][0].as_py()).all()
    assert frame.query("metric == 'lift'")["bin"].tolist() == list(range(1, 11)) * 2


def test_churn_scores_rank_exactly_the_population_given(connection, churn_registry):
    population = churn_frame(seed=5).drop(columns=["is_churned", "split", "sample_weight"])
    relations = tables(connection, ml_churn_scoring_population=population)  # 4 dates: all scored
    version = churn_registry["model_version"][0].as_py()
    scores = churn.churn_scores(
        connection,
        CHURN,
        relations,
        churn_registry,
        versions_table(("churn", version), ("ctr", "0000")),
        scored_at=dt.datetime(2026, 1, 1),
    )
    result = scores.df()
    assert len(result) == len(population) == 1600
    assert result[["customer_id", "observation_date"]].drop_duplicates().shape[0] == 1600
    assert result["risk_decile"].value_counts().sort_index().tolist() == [160] * 10
    top = result[result["risk_decile"] == 1]["churn_probability"].min()
    assert top >= result[result["risk_decile"] == 2]["churn_probability"].max()
    assert (result["model_version"] == version).all()
    assert result["scored_at"].iloc[0] == pd.Timestamp("2026-01-01")


def test_churn_risk_deciles_carry_the_spec_key_columns(connection, churn_registry):
    population = churn_frame(seed=5).drop(columns=["is_churned", "split", "sample_weight"])
    population = population.rename(columns={"customer_id": "account_id"})
    relations = tables(connection, ml_churn_scoring_population=population)
    spec = dataclasses.replace(CHURN, key_columns=("account_id", "observation_date"))
    version = churn_registry["model_version"][0].as_py()
    result = churn.churn_scores(
        connection, spec, relations, churn_registry, versions_table(("churn", version))
    ).df()
    assert list(result.columns[:3]) == ["account_id", "observation_date", "churn_probability"]
    assert "customer_id" not in result.columns
    assert result["risk_decile"].value_counts().sort_index().tolist() == [160] * 10


@pytest.mark.parametrize("keys", [(), ("customer id",)])
def test_churn_risk_deciles_refuse_keys_that_are_not_identifiers(keys):
    with pytest.raises(ModelSpecError, match="plain identifiers"):
        churn.risk_deciles_sql(keys)


def test_scorers_use_the_champion_of_ml_model_aliases(connection, churn_registry):
    population = tables(connection, ml_churn_scoring_population=churn_frame(customers=10, dates=1))
    with pytest.raises(ModelVersionNotFoundError, match="no version 'feedfacefeedface'"):
        churn.churn_scores(
            connection,
            CHURN,
            population,
            churn_registry,
            versions_table(("churn", "feedfacefeedface")),
        )
    wrong = {"fct_customer_churn_features": population["ml_churn_scoring_population"]}
    with pytest.raises(ModelSpecError, match="scoring model file of 'churn' passes refs"):
        churn.churn_scores(connection, CHURN, wrong, churn_registry, versions_table(("churn", "x")))


@pytest.fixture(scope="module")
def ctr_case(connection):
    population = impression_frame()
    rng = np.random.default_rng(2)
    last_day = population["impression_date"] == population["impression_date"].max()
    keep = (population["is_clicked"] | (rng.random(len(population)) < 0.2)) & ~last_day
    relations = tables(
        connection,
        trn_ctr__recent_sample=population[keep],
        ml_ctr_evaluation_day=population[last_day],
    )
    ctr_registry = lifecycle.train_and_register(CTR, relations)
    return population, keep, last_day, ctr_registry


def test_ctr_model_is_recalibrated_compiled_and_evaluated_on_its_day(ctr_case):
    population, keep, last_day, ctr_registry = ctr_case
    row = ctr_registry.to_pylist()[0]
    assert row["negative_downsampling_rate"] == 0.2
    assert row["row_count"] == int(keep.sum())  # no split column: every training row
    assert json.loads(row["sampling_spec"]) == CTR.sampling_spec
    assert "__population__" in row["scoring_sql_duckdb"]
    summary = {
        r["metric"]: r["value"] for r in json.loads(row["metrics"])["rows"] if r["bin"] is None
    }
    assert summary["row_count"] == int(last_day.sum())
    assert summary["calibration"] == pytest.approx(1.0, abs=0.15)


def test_ctr_predictions_aggregate_the_scored_population(connection, ctr_case):
    population, _, _, ctr_registry = ctr_case
    dates = population["impression_date"]
    window = population[dates >= dates.max() - dt.timedelta(days=2)]
    relations = tables(connection, ml_ctr_scoring_population=window)
    version = ctr_registry["model_version"][0].as_py()
    result = ctr.ctr_predictions(
        connection, CTR, relations, ctr_registry, versions_table(("ctr", version))
    ).df()
    assert result["impression_date"].nunique() == 3
    assert result["impressions"].sum() == len(window)
    assert result["clicks"].sum() == int(window["is_clicked"].sum())
    one = result.iloc[0]
    day = pd.Timestamp(one["impression_date"]).date()
    rows = window.query("ad_id == @one.ad_id and placement == @one.placement")
    rows = rows[rows["impression_date"] == day]
    assert one["impressions"] == len(rows)
    assert one["observed_click_through_rate"] == pytest.approx(rows["is_clicked"].mean())
    predicted = (result["predicted_click_through_rate"] * result["impressions"]).sum()
    assert predicted / len(window) == pytest.approx(window["is_clicked"].mean(), rel=0.1)
    sql = connection.sql(
        row_sql := ctr_registry["scoring_sql_duckdb"][0]
        .as_py()
        .replace("__population__", "ml_ctr_scoring_population")
    ).df()
    assert row_sql and len(sql) == len(window)
    assert sql["probability"].sum() == pytest.approx(predicted, rel=1e-9)


@pytest.mark.spark
def test_spark_scores_equal_duckdb_scores(connection, churn_registry, ctr_case, tmp_path):
    pyspark_sql = pytest.importorskip("pyspark.sql")
    import os
    import sys

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("warehouse_ml-lifecycle")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.warehouse.dir", str(tmp_path / "warehouse"))
        .getOrCreate()
    )
    population, _, _, ctr_registry = ctr_case
    features = churn_frame(seed=5).drop(columns=["is_churned", "split", "sample_weight"])
    duck = tables(
        connection, ml_churn_scoring_population=features, ml_ctr_scoring_population=population
    )
    versions = versions_table(
        ("churn", churn_registry["model_version"][0].as_py()),
        ("ctr", ctr_registry["model_version"][0].as_py()),
    )
    when = dt.datetime(2026, 1, 1)
    try:
        expected_churn = churn.churn_scores(
            connection,
            CHURN,
            {"ml_churn_scoring_population": duck["ml_churn_scoring_population"]},
            churn_registry,
            versions,
            scored_at=when,
        ).df()
        expected_ctr = ctr.ctr_predictions(
            connection,
            CTR,
            {"ml_ctr_scoring_population": duck["ml_ctr_scoring_population"]},
            ctr_registry,
            versions,
            scored_at=when,
        ).df()

        def to_spark(table):
            return spark.createDataFrame(table.to_arrow_table())

        spark_versions = spark.createDataFrame(versions)
        churn_result = churn.churn_scores(
            spark,
            CHURN,
            {"ml_churn_scoring_population": to_spark(duck["ml_churn_scoring_population"])},
            spark.createDataFrame(churn_registry),
            spark_versions,
            scored_at=when,
        ).toPandas()
        ctr_result = ctr.ctr_predictions(
            spark,
            CTR,
            {"ml_ctr_scoring_population": to_spark(duck["ml_ctr_scoring_population"])},
            spark.createDataFrame(ctr_registry),
            spark_versions,
            scored_at=when,
        ).toPandas()
    finally:
        spark.stop()
    keys = ["customer_id", "observation_date"]
    churn_result = churn_result.sort_values(keys).reset_index(drop=True)
    expected_churn = expected_churn.sort_values(keys).reset_index(drop=True)
    np.testing.assert_allclose(
        churn_result["churn_probability"], expected_churn["churn_probability"]
    )
    assert churn_result["risk_decile"].tolist() == expected_churn["risk_decile"].tolist()
    keys = ["ad_id", "placement", "impression_date"]
    ctr_result = ctr_result.sort_values(keys).reset_index(drop=True)
    expected_ctr = expected_ctr.sort_values(keys).reset_index(drop=True)
    assert ctr_result["impressions"].tolist() == expected_ctr["impressions"].tolist()
    np.testing.assert_allclose(
        ctr_result["predicted_click_through_rate"],
        expected_ctr["predicted_click_through_rate"],
        atol=1e-12,
    )
