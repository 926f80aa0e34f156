"""warehouse_ml.engine on DuckDB (the Spark half is in test_spark_engine.py)."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from _ml_synthetic import FEATURES, synthetic_frame

from warehouse_ml import engine, training


def add_score(batch: pd.DataFrame) -> pd.DataFrame:
    """Row-wise test function: score = 2 * x + 1."""
    return pd.DataFrame({"id": batch["id"], "score": batch["x"] * 2.0 + 1.0})


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


def test_detect_engine_duckdb(con):
    assert engine.detect_engine(con) == "duckdb"
    assert engine.frame_engine(con.sql("select 1 as id")) == "duckdb"


def test_detect_engine_rejects_other_objects():
    with pytest.raises(TypeError, match="DuckDB connection or a SparkSession"):
        engine.detect_engine(object())
    with pytest.raises(TypeError, match="DuckDB relation or a Spark DataFrame"):
        engine.frame_engine(pd.DataFrame())


def test_map_batches_is_spark_only(con):
    relation = con.sql("select range as id, cast(range as double) / 4 as x from range(10)")
    with pytest.raises(TypeError, match="Spark DataFrames only; on DuckDB use engine.score"):
        engine.map_batches(relation, add_score, "id bigint, score double")


def test_select_projects_columns_on_every_input(con):
    relation = con.sql("select range as id, 'a' || range as name, 1 as \"odd col\" from range(3)")
    assert engine.columns(engine.select(relation, ["name", "odd col"])) == ["name", "odd col"]
    assert engine.collect(engine.select(relation, ["id"]), 3)["id"].to_pylist() == [0, 1, 2]
    table = pa.table({"x": [1], "y": [2]})
    assert engine.select(table, ["y"]).column_names == ["y"]
    assert list(engine.select(table.to_pandas(), ["y"]).columns) == ["y"]
    with pytest.raises(KeyError, match=r"columns \['z'\] not found"):
        engine.select(relation, ["id", "z"])


def test_collect_is_bounded_on_every_input(con):
    relation = con.sql("select range as id, 'a' || range as name from range(5)")
    collected = engine.collect(relation, max_rows=5)
    assert isinstance(collected, pa.Table)
    assert sorted(collected["id"].to_pylist()) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="more than max_rows=4 rows"):
        engine.collect(relation, max_rows=4)
    frame = pd.DataFrame({"x": [1, 2, 3]}, index=[10, 11, 12])
    assert engine.collect(frame, 3)["x"].to_pylist() == [1, 2, 3]
    assert engine.collect(pa.table({"x": [1, 2, 3]}), 3).num_rows == 3
    with pytest.raises(ValueError, match="more than max_rows=2 rows"):
        engine.collect(frame, 2)
    with pytest.raises(ValueError, match="max_rows must be an integer >= 0"):
        engine.collect(frame, -1)
    with pytest.raises(TypeError, match="got list"):
        engine.collect([1, 2, 3], 10)


class FakeSparkDataFrame:
    """Duck-types the part of pyspark.sql.DataFrame that collect uses."""

    def __init__(self, frame: pd.DataFrame, limits: list[int]) -> None:
        self._frame = frame
        self.limits = limits

    def mapInPandas(self, *args):  # noqa: N802 (pyspark's name)
        raise AssertionError("not used by collect")

    def limit(self, num: int) -> FakeSparkDataFrame:
        self.limits.append(num)
        return FakeSparkDataFrame(self._frame.head(num), self.limits)

    def toArrow(self) -> pa.Table:  # noqa: N802 (pyspark's name)
        return pa.Table.from_pandas(self._frame, preserve_index=False)


def test_collect_reads_at_most_one_row_more_than_allowed_from_spark():
    limits: list[int] = []
    with pytest.raises(ValueError, match="max_rows=10"):
        engine.collect(FakeSparkDataFrame(pd.DataFrame({"x": range(100)}), limits), 10)
    assert limits == [11]  # never more than max_rows + 1 rows leave the engine
    small = FakeSparkDataFrame(pd.DataFrame({"x": [7, 8]}), [])
    assert engine.collect(small, 10)["x"].to_pylist() == [7, 8]


def test_where_filters_in_the_engine(con):
    relation = con.sql(
        "select range as id, case when range % 3 = 0 then 'holdout' else 'train' end as split "
        "from range(9)"
    )
    train = engine.where(relation, "split", "train")
    assert engine.frame_engine(train) == "duckdb"  # still lazy
    assert sorted(engine.collect(train, 9)["id"].to_pylist()) == [1, 2, 4, 5, 7, 8]
    quoted = con.sql("select 'it''s' as name union all select 'its'")
    assert engine.collect(engine.where(quoted, "name", "it's"), 2).num_rows == 1
    frame = engine.collect(relation, 9).to_pandas()
    assert engine.where(frame, "split", "holdout")["id"].tolist() == [0, 3, 6]
    table = engine.collect(relation, 9)
    assert engine.where(table, "split", "holdout")["id"].to_pylist() == [0, 3, 6]
    with pytest.raises(KeyError, match="column 'splits' not found"):
        engine.where(relation, "splits", "train")


def test_score_streams_a_duckdb_relation(con):
    frame = synthetic_frame(1_000, seed=4)
    trained = training.fit(
        frame, features=FEATURES, label="is_churned", algorithm="logistic_regression",
        random_state=0,
    )  # fmt: skip
    con.register("population_frame", frame)
    con.execute("create table population as select * from population_frame")
    when = dt.datetime(2026, 1, 1)
    reader = engine.score(
        con.sql("select * from population"), trained, ["customer_id"],
        probability_column="p", constants={"model_version": "v1", "scored_at": when},
        connection=con, batch_rows=128,
    )  # fmt: skip
    assert isinstance(reader, pa.RecordBatchReader)
    assert reader.schema.names == ["customer_id", "p", "model_version", "scored_at"]
    assert reader.schema.field("scored_at").type == pa.timestamp("us")
    ranked = engine.query(con, reader, "select count(*), min(customer_id) from __table__")
    assert ranked.fetchall() == [(1_000, 1)]
    reader = engine.score(con.sql("select * from population"), trained, ["customer_id"])
    scores = reader.read_all().sort_by("customer_id")
    np.testing.assert_allclose(
        scores["probability"].to_numpy(), trained.predict_proba(frame), atol=1e-12
    )


def test_to_engine_table_is_identity_on_duckdb(con):
    frame = pd.DataFrame({"a": [1]})
    table = pa.table({"a": [1]})
    assert engine.to_engine_table(con, frame) is frame
    assert engine.to_engine_table(con, table) is table
