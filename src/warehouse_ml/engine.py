"""Every engine-specific operation of the library: DuckDB on one side, Spark on the other.

A dbt Python model receives a DuckDB connection on the ``duckdb`` target and a SparkSession
on the ``spark`` target; ``dbt.ref(...)`` returns a ``DuckDBPyRelation`` or a pyspark
``DataFrame``. Nothing else in the library looks at which engine it runs on; it goes through
these functions (duck-typed: neither duckdb nor pyspark is imported at module level):

- :func:`detect_engine` / :func:`frame_engine` say which engine an object belongs to.
- :func:`collect` is the one door to the driver: a bounded table as Arrow, refused when larger
  than the caller allows (training sets, evaluation sets, registries, per-ad aggregates).
- :func:`where` keeps the rows whose column equals a value, filtered by the engine;
  :func:`select` keeps some columns.
- :func:`score` scores every row with a registered model: a streamed Arrow reader on DuckDB,
  ``mapInPandas`` on Spark; nothing is collected. :func:`map_batches` is its Spark half.
- :func:`query` runs one SQL text over a lazy table on either engine (ranks, aggregates).
- :func:`to_engine_table` turns a small Arrow or pandas result into what the engine's dbt
  Python model may return.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:  # scoring imports scikit-learn; a model that only reads and writes does not
    from warehouse_ml import scoring

Engine = Literal["duckdb", "spark"]

SPARK_TO_ARROW: dict[str, pa.DataType] = {
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
"""Spark simple type name -> the Arrow type standing for it in :func:`scoring.check_schema`."""

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

    Raises
    ------
    TypeError
        If the object is neither a SparkSession nor a DuckDB connection.
    """
    if hasattr(session, "createDataFrame") and hasattr(session, "read"):
        return "spark"
    if hasattr(session, "from_arrow") and hasattr(session, "execute"):
        return "duckdb"
    raise TypeError(f"expected a DuckDB connection or a SparkSession, got {type(session).__name__}")


def frame_engine(frame: Any) -> Engine:
    """Say which engine a table handle (the result of ``dbt.ref``) belongs to.

    Raises
    ------
    TypeError
        If the object is neither a DuckDB relation nor a Spark DataFrame.
    """
    if hasattr(frame, "mapInPandas"):
        return "spark"
    if hasattr(frame, "to_arrow_reader") and hasattr(frame, "aggregate"):
        return "duckdb"
    raise TypeError(f"expected a DuckDB relation or a Spark DataFrame, got {type(frame).__name__}")


def columns(frame: Any) -> list[str]:
    """Column names of a DuckDB relation, Spark DataFrame, pandas DataFrame or Arrow table."""
    if isinstance(frame, pa.Table):
        return list(frame.column_names)
    return [str(name) for name in frame.columns]


def collect(frame: Any, max_rows: int) -> pa.Table:
    """Bring a table the caller knows to be small to the driver, as Arrow.

    Parameters
    ----------
    frame : DuckDBPyRelation, pyspark DataFrame, pyarrow.Table or pandas.DataFrame
        For example a training sample built by the sampling macros, or a registry.
    max_rows : int
        The most rows the caller accepts: the guard that keeps a full fact table out of memory.
        At most ``max_rows + 1`` rows leave the engine (the extra one proves the excess).

    Returns
    -------
    pyarrow.Table

    Raises
    ------
    ValueError
        If ``max_rows`` is negative or ``frame`` has more than ``max_rows`` rows.
    """
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0:
        raise ValueError(f"max_rows must be an integer >= 0, got {max_rows!r}")
    if isinstance(frame, pd.DataFrame):
        table = pa.Table.from_pandas(frame.head(max_rows + 1), preserve_index=False)
    elif isinstance(frame, pa.Table):
        table = frame.slice(0, max_rows + 1)
    elif frame_engine(frame) == "spark":
        table = frame.limit(max_rows + 1).toArrow()
    else:
        table = frame.limit(max_rows + 1).to_arrow_table()
    if table.num_rows > max_rows:
        raise ValueError(
            f"refusing to collect more than max_rows={max_rows:,} rows to the driver; "
            "sample or aggregate the table in SQL first, or raise the bound deliberately"
        )
    return table


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def where(frame: Any, column: str, value: Any) -> Any:
    """The rows of ``frame`` whose ``column`` equals ``value``, filtered by the engine.

    Works on DuckDB relations and Spark DataFrames (lazily) and on pandas / Arrow tables.
    """
    if column not in columns(frame):
        raise KeyError(f"column '{column}' not found (columns: {columns(frame)})")
    if isinstance(frame, pd.DataFrame):
        return frame[frame[column] == value]
    if isinstance(frame, pa.Table):
        return frame.filter(pc.equal(frame[column], pa.scalar(value)))
    if frame_engine(frame) == "spark":
        return frame.filter(frame[column] == value)
    quoted = '"' + column.replace('"', '""') + '"'
    return frame.filter(f"{quoted} = {_sql_literal(value)}")


def select(frame: Any, names: Sequence[str]) -> Any:
    """The columns ``names`` of ``frame``, projected by the engine (lazily on DuckDB and Spark).

    Raises
    ------
    KeyError
        If a column is not in ``frame``.
    """
    names = list(names)
    missing = [name for name in names if name not in columns(frame)]
    if missing:
        raise KeyError(f"columns {missing} not found (columns: {columns(frame)})")
    if isinstance(frame, pd.DataFrame):
        return frame[names]
    if isinstance(frame, pa.Table):
        return frame.select(names)
    if frame_engine(frame) == "spark":
        return frame.select(*names)
    return frame.project(", ".join('"' + name.replace('"', '""') + '"' for name in names))


def map_batches(frame: Any, function: BatchFunction, schema: Any) -> Any:
    """Apply ``function`` to every batch of a Spark DataFrame on the executors (``mapInPandas``).

    The Spark half of :func:`score`; on DuckDB :func:`score` streams Arrow batches through
    :func:`warehouse_ml.scoring.score_reader` instead.

    Parameters
    ----------
    frame : pyspark DataFrame
        The input table.
    function : callable
        ``pandas.DataFrame -> pandas.DataFrame``, pure and row-wise. Spark pickles it to its
        Python workers: use a module-level function of ``warehouse_ml`` or a
        ``functools.partial`` of one.
    schema : pyspark StructType or str
        Output columns, as a ``StructType`` or Spark DDL (``"id bigint, score double"``).

    Returns
    -------
    pyspark DataFrame
        Lazy; a valid return value of a dbt Python model.

    Raises
    ------
    TypeError
        If ``frame`` is not a Spark DataFrame.
    """
    if frame_engine(frame) != "spark":
        raise TypeError(
            "map_batches runs on Spark DataFrames only; on DuckDB use engine.score, which "
            "streams Arrow batches"
        )
    return frame.mapInPandas(_SparkBatches(function), schema=schema)


class _SparkBatches:
    """Picklable ``Iterator[pd.DataFrame] -> Iterator[pd.DataFrame]`` wrapper for mapInPandas."""

    def __init__(self, function: BatchFunction) -> None:
        self.function = function

    def __call__(self, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            yield self.function(batch)


def duckdb_reader(
    connection: Any, relation: Any, batch_size: int | None = None
) -> pa.RecordBatchReader:
    """Stream a DuckDB relation (or SQL text) through a separate cursor.

    In DuckDB 2.0 an open streaming result blocks its connection ("connection has an open
    result"), so a reader made on the connection that must then run ``create table as select``
    over the scores would deadlock the model. ``connection.cursor()`` (same database, own
    connection) avoids that.
    """
    from warehouse_ml import scoring

    query = relation if isinstance(relation, str) else relation.sql_query()
    return connection.cursor().sql(query).to_arrow_reader(batch_size or scoring.DEFAULT_BATCH_SIZE)


def _spark_arrow_schema(frame: Any) -> pa.Schema:
    def arrow_type(name: str) -> pa.DataType:
        return pa.float64() if name.startswith("decimal") else SPARK_TO_ARROW.get(name, pa.binary())

    return pa.schema([(f.name, arrow_type(f.dataType.simpleString())) for f in frame.schema])


def _predict_batch(
    predictor: scoring.BatchPredictor, keys: list[str], column: str, batch: pd.DataFrame
) -> pd.DataFrame:
    return batch[keys].assign(**{column: predictor.predict_pandas(batch)})


def score(
    frame: Any,
    model: Any,
    keys: Sequence[str],
    *,
    probability_column: str = "probability",
    constants: Mapping[str, Any] | None = None,
    connection: Any | None = None,
    batch_rows: int | None = None,
) -> Any:
    """Score every row of ``frame`` with ``model``, streamed by the engine.

    Parameters
    ----------
    frame : DuckDBPyRelation or pyspark DataFrame
        The population, exactly as given (a SQL model): key and feature columns.
    model : warehouse_ml.registry.LoadedModel
        A verified model (``pipeline``, ``features``, ``negative_downsampling_rate``).
    keys : sequence of str
        Columns copied to the output unchanged.
    probability_column : str
        Name of the score column (double).
    constants : mapping, optional
        Columns with one value for every row (strings, numbers, datetimes as UTC timestamps).
    connection : duckdb connection, optional
        DuckDB only: read the population through ``connection.cursor()``
        (:func:`duckdb_reader`), needed when the caller then queries the scores on
        ``connection``.
    batch_rows : int, optional
        Rows per Arrow batch on DuckDB (default :data:`warehouse_ml.scoring.DEFAULT_BATCH_SIZE`).

    Returns
    -------
    pyarrow.RecordBatchReader or pyspark DataFrame
        ``keys + [probability_column] + constants``; lazy on both engines. DuckDB: Arrow
        batches through :func:`warehouse_ml.scoring.score_reader`. Spark: ``mapInPandas``
        (the model is pickled to the executors once per task).
    """
    from warehouse_ml import scoring  # scikit-learn, imported when a model scores

    keys = list(keys)
    constants = dict(constants or {})
    batch_rows = batch_rows or scoring.DEFAULT_BATCH_SIZE
    if frame_engine(frame) == "spark":
        from pyspark.sql import functions as spark_functions
        from pyspark.sql.types import DoubleType, StructField, StructType

        scoring.check_schema(_spark_arrow_schema(frame), model.features, keys)
        predictor = scoring.BatchPredictor(model)
        schema = StructType(
            [frame.schema[k] for k in keys] + [StructField(probability_column, DoubleType())]
        )
        scored = map_batches(
            frame, partial(_predict_batch, predictor, keys, probability_column), schema
        )
        for name, value in constants.items():
            literal = spark_functions.lit(value)
            scored = scored.withColumn(
                name, literal.cast("timestamp") if isinstance(value, datetime) else literal
            )
        return scored
    reader = (
        duckdb_reader(connection, frame, batch_rows)
        if connection is not None
        else frame.to_arrow_reader(batch_rows)
    )
    return scoring.score_reader(
        reader,
        model,
        key_columns=keys,
        probability_column=probability_column,
        constants={name: _arrow_scalar(value) for name, value in constants.items()},
    )


def empty_scores(frame: Any, keys: Sequence[str], added: Mapping[str, str]) -> Any:
    """What :func:`score` returns, without rows and without a model (``dbt build --empty``).

    Parameters
    ----------
    frame : DuckDBPyRelation or pyspark DataFrame
        The population; only its key columns' types are read.
    keys : sequence of str
        Columns copied from ``frame``, typed as there.
    added : mapping of str to str
        The columns :func:`score` adds (probability, constants) and their SQL types
        (``double``, ``string``, ``timestamp``: the same names on both engines).

    Returns
    -------
    pyarrow.Table (DuckDB) or pyspark DataFrame
        No rows; what :func:`query` takes as its table.
    """
    keyed = select(frame, keys).limit(0)  # checks the key columns
    nulls = [f"cast(null as {sql_type}) as {name}" for name, sql_type in added.items()]
    if frame_engine(frame) == "spark":
        return keyed.selectExpr("*", *nulls)
    return keyed.project(", ".join(["*", *nulls])).to_arrow_table()


def _arrow_scalar(value: Any) -> pa.Scalar:
    if isinstance(value, datetime):
        return pa.scalar(value.replace(tzinfo=None), pa.timestamp("us"))
    return pa.scalar(value)


TABLE_PLACEHOLDER = "__table__"


def query(session: Any, table: Any, sql: str) -> Any:
    """Run ``sql`` over ``table`` (lazy), which it names :data:`TABLE_PLACEHOLDER`.

    The same SQL text runs on both engines: ``table`` (an Arrow reader on DuckDB, a DataFrame
    on Spark) is registered under a fresh name (``connection.register`` / a temporary view) and
    the query runs on the model's session. The result is lazy (a relation or a DataFrame).
    """
    name = f"__warehouse_ml_{id(table)}"
    if detect_engine(session) == "spark":
        table.createOrReplaceTempView(name)
    else:
        session.register(name, table)
    return session.sql(sql.replace(TABLE_PLACEHOLDER, name))


def to_engine_table(session: Any, table: Any) -> Any:
    """Turn a small result (pandas or Arrow) into what the engine's dbt Python model may return.

    dbt-duckdb accepts pandas, Arrow tables and readers as they are. dbt-spark needs a Spark
    DataFrame: ``session.createDataFrame(table)`` (pyspark 4 takes pandas and
    ``pyarrow.Table``). A Spark DataFrame is returned unchanged. Only for results that are small
    by construction (a registry row, a metrics table), never for a full fact table.
    """
    if detect_engine(session) != "spark" or hasattr(table, "mapInPandas"):
        return table
    return session.createDataFrame(table)
