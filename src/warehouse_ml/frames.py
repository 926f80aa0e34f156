"""Bring a *small* engine-side table into pandas, and refuse anything bigger.

The project keeps big tables in the engine (DuckDB or Spark); pandas only sees small
aggregates such as per-ad totals. :func:`collect_small` is the one door between the two:
it reads at most ``max_rows + 1`` rows through Arrow and raises if the input is larger,
so a wrong ``ref`` fails loudly instead of pulling 100M rows into memory.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

DEFAULT_MAX_ROWS = 1_000_000
"""Default ceiling for :func:`collect_small`; per-ad or per-placement tables stay far below it."""


def _limited_arrow(relation: Any, limit: int) -> pa.Table:
    """Read at most ``limit`` rows of ``relation`` as an Arrow table.

    Parameters
    ----------
    relation : object
        A Spark DataFrame, a DuckDB relation, a pandas DataFrame or an Arrow table.
    limit : int
        Largest number of rows to read.

    Returns
    -------
    pyarrow.Table
        The first ``limit`` rows (all rows if there are fewer).

    Raises
    ------
    TypeError
        If ``relation`` is none of the supported kinds.
    """
    if isinstance(relation, pd.DataFrame):
        return pa.Table.from_pandas(relation.head(limit), preserve_index=False)
    if isinstance(relation, pa.Table):
        return relation.slice(0, limit)
    # Spark DataFrame (pyspark.sql or Spark Connect): duck-typed so pyspark stays optional.
    if hasattr(relation, "toPandas") and hasattr(relation, "limit"):
        limited = relation.limit(limit)
        if hasattr(limited, "toArrow"):  # Spark >= 4.0
            return limited.toArrow()
        return pa.Table.from_pandas(limited.toPandas(), preserve_index=False)
    # DuckDB relation (DuckDBPyRelation): `.arrow()` is a batch reader in DuckDB >= 1.4.
    if hasattr(relation, "limit") and (
        hasattr(relation, "to_arrow_table") or hasattr(relation, "arrow")
    ):
        limited = relation.limit(limit)
        if hasattr(limited, "to_arrow_table"):
            return limited.to_arrow_table()
        arrow = limited.arrow()
        return arrow.read_all() if isinstance(arrow, pa.RecordBatchReader) else arrow
    raise TypeError(
        "collect_small expects a DuckDB relation, a Spark DataFrame, a pandas DataFrame "
        f"or an Arrow table, got {type(relation).__name__}"
    )


def collect_small(relation: Any, max_rows: int = DEFAULT_MAX_ROWS) -> pd.DataFrame:
    """Collect a small relation into pandas, refusing inputs with more than ``max_rows`` rows.

    At most ``max_rows + 1`` rows ever leave the engine: the extra row only proves the input
    is too big. Data travel through Arrow (``to_arrow_table`` on DuckDB, ``toArrow`` on
    Spark 4), not row by row.

    Parameters
    ----------
    relation : object
        A DuckDB relation (what ``dbt.ref`` returns on dbt-duckdb), a Spark DataFrame (what
        it returns on dbt-spark), a pandas DataFrame or an Arrow table.
    max_rows : int, default 1_000_000
        Largest accepted number of rows, at least 1.

    Returns
    -------
    pandas.DataFrame
        All rows of ``relation``, with a fresh ``RangeIndex``.

    Raises
    ------
    ValueError
        If ``max_rows`` is below 1, or ``relation`` has more than ``max_rows`` rows.
    TypeError
        If ``relation`` is not one of the supported kinds.

    Examples
    --------
    >>> import duckdb
    >>> collect_small(duckdb.sql("select 1 as x"), max_rows=10)["x"].tolist()
    [1]
    """
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ValueError(f"max_rows must be a positive integer, got {max_rows!r}")
    table = _limited_arrow(relation, max_rows + 1)
    if table.num_rows > max_rows:
        raise ValueError(
            f"collect_small refuses a relation with more than {max_rows:,} rows: it is meant "
            "for small aggregates only; aggregate in the engine first or raise max_rows "
            "deliberately"
        )
    return table.to_pandas().reset_index(drop=True)
