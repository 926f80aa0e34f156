"""warehouse_ml.scoring: batch-by-batch scoring into a RecordBatchReader."""

from __future__ import annotations

from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from _ml_synthetic import FEATURES, synthetic_frame

from warehouse_ml import engine, scoring, training
from warehouse_ml.errors import FeatureTypeError, MissingFeatureError, UnsupportedPipelineError


def fit(algorithm: str):
    return training.fit(
        synthetic_frame(1_500, seed=21),
        features=FEATURES,
        label="is_churned",
        algorithm=algorithm,
        random_state=5,
    )


@pytest.fixture(scope="module")
def linear():
    return fit("logistic_regression")


@pytest.fixture(scope="module")
def boosted():
    return fit("hist_gradient_boosting")


@pytest.fixture(scope="module")
def population():
    frame = synthetic_frame(5_000, seed=22)
    frame.loc[:9, "segment"] = "unseen_segment"  # categories unknown at training time
    frame.loc[10:19, "hour"] = 99
    return frame


def table_of(frame) -> pa.Table:
    return pa.Table.from_pandas(frame.drop(columns=["is_churned", "weight"]), preserve_index=False)


@pytest.mark.parametrize(
    ("model", "method"),
    [("linear", "linear"), ("linear", "sklearn"), ("boosted", "sklearn"), ("boosted", "auto")],
)
def test_streamed_scores_equal_predict_proba(request, population, model, method):
    trained = request.getfixturevalue(model)
    reader = scoring.score_reader(
        table_of(population), trained, key_columns=["customer_id"], method=method, batch_size=700
    )
    result = reader.read_all()
    np.testing.assert_array_equal(result["customer_id"].to_numpy(), population["customer_id"])
    np.testing.assert_allclose(
        result["probability"].to_numpy(), trained.predict_proba(population), rtol=0, atol=1e-12
    )


def test_output_schema_is_fixed_before_any_batch_is_read(linear, population):
    table = table_of(population)
    pulled = []

    def batches():
        for batch in table.to_batches(max_chunksize=1_000):
            pulled.append(batch.num_rows)
            yield batch

    reader = scoring.score_reader(
        pa.RecordBatchReader.from_batches(table.schema, batches()),
        linear,
        key_columns=["customer_id"],
        probability_column="churn_probability",
        constants={"model_version": "v1", "scored_at": datetime(2026, 1, 2, 3, 4)},
    )
    assert reader.schema.names == ["customer_id", "churn_probability", "model_version", "scored_at"]
    assert reader.schema.field("scored_at").type == pa.timestamp("us")
    assert pulled == []  # nothing scored yet
    sizes = [batch.num_rows for batch in reader]
    assert sizes == [1_000] * 5 and pulled == [1_000] * 5  # one output batch per input batch
    last = scoring.score_reader(
        table.to_reader(max_chunksize=1_000),
        linear,
        key_columns=["customer_id"],
        constants={"model_version": "v1"},
    ).read_next_batch()
    assert last.column("model_version").to_pylist() == ["v1"] * 1_000


@pytest.mark.parametrize("method", ["linear", "sklearn"])
def test_recalibration_is_applied(linear, population, method):
    reader = scoring.score_reader(
        table_of(population),
        linear,
        key_columns=["customer_id"],
        negative_downsampling_rate=0.2,
        method=method,
    )
    expected = training.recalibrate_downsampled(linear.predict_proba(population), 0.2)
    np.testing.assert_allclose(reader.read_all()["probability"].to_numpy(), expected, atol=1e-12)


def test_duckdb_streams_in_and_out(linear, population):
    con = duckdb.connect()
    con.execute("set threads = 1")
    con.register("population_rows", table_of(population))
    con.execute("create table population as select * from population_rows")
    relation = con.sql("select * from population order by customer_id")
    population_reader = engine.duckdb_reader(con, relation, batch_size=1_024)
    reader = scoring.score_reader(population_reader, linear, key_columns=["customer_id"])
    con.register("scored_rows", reader)
    con.execute("create table scores as select * from scored_rows")
    scores = con.sql("select customer_id, probability from scores order by customer_id").df()
    assert len(scores) == 5_000
    np.testing.assert_allclose(
        scores["probability"].to_numpy(), linear.predict_proba(population), atol=1e-12
    )


def test_dictionary_encoded_categoricals(linear, population):
    table = table_of(population)
    index = table.schema.get_field_index("segment")
    table = table.set_column(index, "segment", table.column("segment").dictionary_encode())
    result = scoring.score_reader(table, linear, key_columns=["customer_id"]).read_all()
    np.testing.assert_allclose(
        result["probability"].to_numpy(), linear.predict_proba(population), atol=1e-12
    )


def test_missing_feature_names_the_column(linear, population):
    table = table_of(population).drop_columns(["spend_90d"])
    with pytest.raises(MissingFeatureError, match=r"\['spend_90d'\] the model was trained on"):
        scoring.score_reader(table, linear, key_columns=["customer_id"])


def test_missing_key_names_the_column(linear, population):
    with pytest.raises(MissingFeatureError, match=r"key column\(s\) \['user_id'\]"):
        scoring.score_reader(table_of(population), linear, key_columns=["user_id"])


def test_retyped_numeric_feature_names_the_column(linear, population):
    table = table_of(population)
    index = table.schema.get_field_index("spend_90d")
    table = table.set_column(index, "spend_90d", table.column("spend_90d").cast(pa.string()))
    with pytest.raises(FeatureTypeError, match="feature column 'spend_90d' is string"):
        scoring.score_reader(table, linear, key_columns=["customer_id"])


def test_retyped_categorical_feature_names_the_column(linear, population):
    table = table_of(population)
    index = table.schema.get_field_index("hour")
    table = table.set_column(index, "hour", table.column("hour").cast(pa.float64()))
    with pytest.raises(FeatureTypeError, match="feature column 'hour' is double"):
        scoring.score_reader(table, linear, key_columns=["customer_id"])


def test_linear_method_refuses_a_tree_model(boosted, population):
    with pytest.raises(UnsupportedPipelineError, match="HistGradientBoostingClassifier"):
        scoring.score_reader(
            table_of(population), boosted, key_columns=["customer_id"], method="linear"
        )


def test_unknown_method_is_refused(linear, population):
    with pytest.raises(ValueError, match="method 'gpu' is not supported"):
        scoring.score_reader(
            table_of(population), linear, key_columns=["customer_id"], method="gpu"
        )
