"""Engine detection and the few engine-specific operations the library needs.

A dbt Python model receives a DuckDB connection on the ``duckdb`` target and a SparkSession
on the ``spark`` target; ``dbt.ref(...)`` returns a ``DuckDBPyRelation`` or a pyspark
``DataFrame``. The library stays engine-neutral by going through these helpers:

- :func:`detect_engine` / :func:`frame_engine` tell which engine an object belongs to, by duck
  typing, so neither duckdb nor pyspark is imported here.
- :func:`map_batches` applies a pandas-to-pandas function batch by batch: on Spark with
  ``mapInPandas`` (the work stays on the executors), on DuckDB as a streamed Arrow reader.
  Use it to score every row; never call ``toPandas()`` / ``.df()`` on a full table.
- :func:`collect_bounded` brings a bounded table (a training sample, a registry row) to the
  driver as pandas, and refuses when it is larger than the caller allows.
- :func:`to_engine_table` turns a small pandas or Arrow result into what the engine's dbt
  Python model may return (a Spark DataFrame on Spark).

Column types for :func:`map_batches` are given engine-neutrally as ``{"name": "double"}``
with the names in :data:`COLUMN_TYPES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

Engine = Literal["duckdb", "spark"]

COLUMN_TYPES: dict[str, tuple[pa.DataType, str]] = {
    "bigint": (pa.int64(), "bigint"),
    "integer": (pa.int32(), "int"),
    "double": (pa.float64(), "double"),
    "boolean": (pa.bool_(), "boolean"),
    "string": (pa.string(), "string"),
    "timestamp": (pa.timestamp("us"), "timestamp"),
    "date": (pa.date32(), "date"),
    "binary": (pa.binary(), "binary"),
}
"""Neutral type name -> (Arrow type used on DuckDB, Spark SQL type)."""

BatchFunction = Callable[[pd.DataFrame], pd.DataFrame]


def detect_engine(session: Any) -> Engine:
    """Say which engine a dbt Python model's ``session`` argument belongs to.

    Parameters
    ----------
    session : object
        The second argument of ``model(dbt, session)``.

    Returns
    -------
    {"duckdb", "spark"}
        ``"spark"`` for a SparkSession (classic or Spark Connect), ``"duckdb"`` for a DuckDB
        connection.

    Raises
    ------
    TypeError
        If the object is neither.
    """
    if hasattr(session, "createDataFrame") and hasattr(session, "read"):
        return "spark"
    if hasattr(session, "from_arrow") and hasattr(session, "execute"):
        return "duckdb"
    raise TypeError(f"expected a DuckDB connection or a SparkSession, got {type(session).__name__}")


def frame_engine(frame: Any) -> Engine:
    """Say which engine a table handle (the result of ``dbt.ref``) belongs to.

    Parameters
    ----------
    frame : object
        A ``DuckDBPyRelation`` or a pyspark ``DataFrame``.

    Returns
    -------
    {"duckdb", "spark"}

    Raises
    ------
    TypeError
        If the object is neither.
    """
    if hasattr(frame, "mapInPandas"):
        return "spark"
    if hasattr(frame, "to_arrow_reader") and hasattr(frame, "aggregate"):
        return "duckdb"
    raise TypeError(f"expected a DuckDB relation or a Spark DataFrame, got {type(frame).__name__}")


def arrow_schema(columns: Mapping[str, str]) -> pa.Schema:
    """Arrow schema of neutral ``{"column": "type"}`` pairs (see :data:`COLUMN_TYPES`)."""
    return pa.schema([(name, _column_type(kind)[0]) for name, kind in columns.items()])


def spark_ddl(columns: Mapping[str, str]) -> str:
    """Spark DDL schema (``"a bigint, b double"``) of neutral ``{"column": "type"}`` pairs."""
    return ", ".join(f"`{name}` {_column_type(kind)[1]}" for name, kind in columns.items())


def _column_type(kind: str) -> tuple[pa.DataType, str]:
    try:
        return COLUMN_TYPES[kind]
    except KeyError:
        raise ValueError(
            f"unknown column type {kind!r}; use one of {', '.join(COLUMN_TYPES)}"
        ) from None


def row_count(frame: Any) -> int:
    """Number of rows of a DuckDB relation or Spark DataFrame, counted by the engine."""
    if frame_engine(frame) == "spark":
        return int(frame.count())
    return int(frame.aggregate("count(*)").fetchall()[0][0])


def collect_bounded(frame: Any, max_rows: int) -> pd.DataFrame:
    """Bring a table the caller knows to be small to the driver as pandas.

    Parameters
    ----------
    frame : DuckDBPyRelation or pyspark DataFrame
        For example a training sample built by the sampling macros.
    max_rows : int
        The most rows the caller accepts; the guard that keeps a full fact table out of memory.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValueError
        If ``frame`` has more than ``max_rows`` rows (nothing is collected then).
    """
    if max_rows < 0:
        raise ValueError(f"max_rows must be >= 0, got {max_rows}")
    engine = frame_engine(frame)
    # limit(max_rows + 1) is cheap on both engines and proves the bound without a full count.
    probe = frame.limit(max_rows + 1)
    result = probe.toPandas() if engine == "spark" else probe.to_arrow_table().to_pandas()
    if len(result) > max_rows:
        raise ValueError(
            f"refusing to collect more than max_rows={max_rows} rows to the driver; "
            "sample the table in SQL first"
        )
    return result


def map_batches(
    frame: Any,
    function: BatchFunction,
    columns: Mapping[str, str],
    batch_rows: int = 65_536,
) -> Any:
    """Apply ``function`` to every batch of ``frame`` without materialising it on the driver.

    Parameters
    ----------
    frame : DuckDBPyRelation or pyspark DataFrame
        The input table.
    function : callable
        ``pandas.DataFrame -> pandas.DataFrame``, pure and row-wise (a batch boundary must not
        change the result). Spark pickles it to its Python workers: use a module-level
        function of an installed package (``warehouse_ml``) or a ``functools.partial`` of one,
        whose bound arguments (for example a fitted Pipeline) are pickled with it.
    columns : mapping of str to str
        Output columns and their neutral types (:data:`COLUMN_TYPES`), in order.
    batch_rows : int, default 65536
        Rows per batch on DuckDB (Spark uses ``spark.sql.execution.arrow.maxRecordsPerBatch``).

    Returns
    -------
    pyspark DataFrame or pyarrow.RecordBatchReader
        On Spark a lazy DataFrame computed with ``mapInPandas``; on DuckDB a streaming reader.
        Both are valid return values of a dbt Python model.
    """
    if batch_rows <= 0:
        raise ValueError(f"batch_rows must be > 0, got {batch_rows}")
    if frame_engine(frame) == "spark":
        return frame.mapInPandas(_SparkBatches(function), schema=spark_ddl(columns))
    schema = arrow_schema(columns)
    reader = frame.to_arrow_reader(batch_rows)
    return pa.RecordBatchReader.from_batches(schema, _duckdb_batches(reader, function, schema))


class _SparkBatches:
    """Picklable ``Iterator[pd.DataFrame] -> Iterator[pd.DataFrame]`` wrapper for mapInPandas."""

    def __init__(self, function: BatchFunction) -> None:
        self.function = function

    def __call__(self, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            yield self.function(batch)


def _duckdb_batches(
    reader: pa.RecordBatchReader, function: BatchFunction, schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    for batch in reader:
        result = function(batch.to_pandas())
        table = pa.Table.from_pandas(result[schema.names], schema=schema, preserve_index=False)
        yield from table.to_batches()


def to_engine_table(session: Any, table: Any) -> Any:
    """Turn a small result (pandas or Arrow) into what the engine's dbt Python model may return.

    dbt-duckdb accepts pandas, Arrow tables and readers as they are. dbt-spark accepts Spark
    (and pandas-on-Spark) DataFrames, and pandas only through ``pyspark.pandas``, which pandas 3
    breaks; so on Spark this is ``session.createDataFrame(table)`` (pyspark 4 takes both pandas
    and ``pyarrow.Table``). A Spark DataFrame is returned unchanged. Use it for results that are
    small by construction (a registry row, a metrics table), never for a full fact table.
    """
    if detect_engine(session) != "spark" or hasattr(table, "mapInPandas"):
        return table
    return session.createDataFrame(table)
