"""warehouse_ml.engine on a local SparkSession: the same results as on DuckDB."""

from __future__ import annotations

import os
import sys

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from warehouse_ml import engine

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]
pyspark_sql = pytest.importorskip("pyspark.sql")


def add_score(batch: pd.DataFrame) -> pd.DataFrame:
    """Row-wise test function: score = 2 * x + 1."""
    return pd.DataFrame({"id": batch["id"], "score": batch["x"] * 2.0 + 1.0})


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Spark's Python workers cannot import this test file; ship add_score by value
    # (library functions under warehouse_ml are importable and go by reference).
    from pyspark import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    work = tmp_path_factory.mktemp("spark")
    session = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("warehouse_ml-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.warehouse.dir", str(work / "warehouse"))
        .config("spark.log.level", "ERROR")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_detect_engine_spark(spark):
    assert engine.detect_engine(spark) == "spark"
    assert engine.frame_engine(spark.range(1)) == "spark"


def test_map_batches_runs_in_spark(spark):
    frame = spark.sql("select id, cast(id as double) / 4 as x from range(10)").repartition(3)
    scored = engine.map_batches(frame, add_score, "id bigint, score double")
    assert isinstance(scored, pyspark_sql.DataFrame)  # lazy: nothing collected yet
    spark_rows = sorted((row.id, row.score) for row in scored.collect())
    assert spark_rows == [(i, i / 2 + 1.0) for i in range(10)]


def test_collect_and_where(spark):
    frame = spark.sql("select id, if(id % 3 = 0, 'holdout', 'train') as split from range(6)")
    assert sorted(engine.collect(frame, max_rows=6)["id"].to_pylist()) == list(range(6))
    with pytest.raises(ValueError, match="max_rows=5"):
        engine.collect(frame, max_rows=5)
    holdout = engine.where(frame, "split", "holdout")
    assert isinstance(holdout, pyspark_sql.DataFrame)
    assert sorted(engine.collect(holdout, 6)["id"].to_pylist()) == [0, 3]


def test_query_runs_the_same_sql_as_on_duckdb(spark):
    sql = "select count(*) as n, sum(id) as total from __table__"
    spark_rows = engine.query(spark, spark.range(5), sql).collect()
    con = duckdb.connect()
    duck_rows = engine.query(con, con.sql("select range as id from range(5)"), sql).fetchall()
    assert [tuple(r) for r in spark_rows] == duck_rows == [(5, 10)]


def test_to_engine_table_gives_a_spark_dataframe(spark):
    frame = engine.to_engine_table(spark, pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    assert isinstance(frame, pyspark_sql.DataFrame)
    assert [tuple(row) for row in frame.orderBy("a").collect()] == [(1, "x"), (2, "y")]
    registry = pa.table({"version": ["v1"], "model_bytes": [b"\x00\x01"]})
    rows = engine.to_engine_table(spark, registry).collect()
    assert [tuple(row) for row in rows] == [("v1", bytearray(b"\x00\x01"))]
    assert engine.to_engine_table(spark, frame) is frame
    empty = engine.to_engine_table(spark, registry.slice(0, 0))
    assert empty.count() == 0 and empty.columns == ["version", "model_bytes"]
