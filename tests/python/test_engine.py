"""warehouse_ml.engine on DuckDB (the Spark half is in test_spark_engine.py)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from warehouse_ml import engine


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


def test_schemas_from_neutral_types():
    columns = {"id": "bigint", "score": "double", "name": "string"}
    assert engine.spark_ddl(columns) == "`id` bigint, `score` double, `name` string"
    assert engine.arrow_schema(columns) == pa.schema(
        [("id", pa.int64()), ("score", pa.float64()), ("name", pa.string())]
    )
    with pytest.raises(ValueError, match="unknown column type 'float128'"):
        engine.spark_ddl({"x": "float128"})


def test_map_batches_streams_every_row(con):
    relation = con.sql("select range as id, cast(range as double) / 4 as x from range(10)")
    reader = engine.map_batches(relation, add_score, {"id": "bigint", "score": "double"}, 3)
    assert isinstance(reader, pa.RecordBatchReader)
    # dbt-duckdb writes a Python model's result through a second cursor, as here.
    table = con.cursor().sql("select * from reader order by id").fetchall()
    assert table == [(i, i / 2 + 1.0) for i in range(10)]


def test_row_count_and_collect_bounded(con):
    relation = con.sql("select range as id from range(5)")
    assert engine.row_count(relation) == 5
    collected = engine.collect_bounded(relation, max_rows=5)
    assert sorted(collected["id"].tolist()) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="max_rows=4"):
        engine.collect_bounded(relation, max_rows=4)


def test_to_engine_table_is_identity_on_duckdb(con):
    frame = pd.DataFrame({"a": [1]})
    table = pa.table({"a": [1]})
    assert engine.to_engine_table(con, frame) is frame
    assert engine.to_engine_table(con, table) is table
