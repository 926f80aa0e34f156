"""Engine parity: build the project on DuckDB and on Spark from the same raw data, compare tables.

Compared: every model in the ``marts`` schema and in the ``ml`` schema (``ml_model_specs``
whole: Jinja renders it, ``spec_fingerprint`` too, so nothing in it is engine-specific; the model
registries, ``ml_model_metrics``, the decision log ``ml_model_decisions`` and the alias table
``ml_model_aliases`` (who serves, resolved how, on which figures), the scores, the score histories
``churn_score_history`` and ``ctr_prediction_history`` by content (their keys without
``model_version``: a fresh build holds one version), the drift report ``ml_feature_drift`` and the
evaluation tables of ``models/ml/evaluation/`` (curves, thresholds, confusion cells, importance,
coefficients, score bins)), so a spec, a sample, a fitted model, a promotion decision, a score, a
drift or an evaluation figure that differs between engines fails.
Not compared (``NOT_COMPARED_MODELS``): the ml layer's populations and evaluation sets
(``ml_churn_scoring_population``, ``ml_churn_evaluation_out_of_time``,
``ml_ctr_scoring_population``, ``ml_ctr_evaluation_day``, and ``ml_feature_drift_rows``, the drift
report's long input), copies of mart rows filtered by date:
the marts they copy are compared, and so are the scores and metrics computed from them. Left out
(``NOT_COMPARED``): the run stamps (``RUN_STAMP_COLUMNS``: ``trained_at``,
``scored_at``, ``decided_at``); the artifact
bytes and their sha256 (a zip archive records file times), and so the row's ``integrity_sha256``
and ``signature`` over it; and the columns that hash or print the
training rows bit for bit: ``model_version`` (and ``champion_version``, a version too) and
``data_fingerprint`` (a sum of 64-bit row hashes: a feature summed in another order differs in its
last bit, e.g. 377.57 vs 377.57000000000005, and so does the hash), the scoring SQL and the
metrics JSON (coefficients and metrics as text). What they stand for is compared
by value: the metrics in ``ml_model_metrics`` and every score within ``rtol``, ``row_count``,
``weight_sum``, parameters and features exactly. For every compared table the check asserts, per the
Scale-out issue:

- the same columns and the same number of rows on both engines;
- the same keys (the columns of the table's ``unique`` / ``unique_combination_of_columns`` test,
  without the ``NOT_COMPARED`` columns), unique on each side (a work directory holding several
  appended model versions is refused, not misaligned);
- numeric columns equal within ``rtol`` (1e-9 relative) after aligning rows on the keys, or
  within ``atol`` (1e-12 absolute): a value that is zero up to rounding (a KS gap of 2e-15
  on one engine, 1.7e-15 on the other) has no meaningful relative error;
- every other column (text, dates, timestamps, booleans) exactly equal.

The DuckDB side is read from the database file, the Spark side from the Parquet files of the
Spark warehouse directory (``<spark_dir>/warehouse/<schema>.db/<table>``), so the comparison needs
no running Spark. Command line::

    python -m warehouse_ml.parity --raw /path/to/raw --work /tmp/parity [--threads 2] [--skip-build]

It writes ``<work>/parity.json`` (build times and every difference) and exits 1 on a difference.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse_ml import progress

PROJECT_DIR = Path(__file__).resolve().parents[2]
"""Default dbt project: the repository root of an editable install (``--project-dir`` overrides)."""

COMPARED_SCHEMAS = ("marts", "ml")
NOT_COMPARED_MODELS = frozenset(
    {
        "ml_churn_scoring_population",
        "ml_churn_evaluation_out_of_time",
        "ml_ctr_scoring_population",
        "ml_ctr_evaluation_day",
        "ml_feature_drift_rows",
    }
)
"""Models of ``COMPARED_SCHEMAS`` left out: copies of mart rows (see the module docstring)."""
RUN_STAMP_COLUMNS = ("trained_at", "scored_at", "decided_at")
"""Columns that record when a run wrote a row, not what it wrote: never compared (here) and never
digested (:mod:`warehouse_ml.digest`)."""
NOT_COMPARED = frozenset(
    {
        *RUN_STAMP_COLUMNS,
        "artifact",
        "artifact_sha256",
        "model_version",
        "champion_version",
        "data_fingerprint",
        "scoring_sql_duckdb",
        "scoring_sql_spark",
        "metrics",
        "integrity_sha256",
        "signature",
    }
)
"""Columns that record when a run wrote a row, or hash or print its training rows bit for bit
(see the module docstring); compared through the values they stand for instead."""


@dataclass
class MartParity:
    """The comparison of one mart: ``ok`` when ``differences`` is empty."""

    name: str
    keys: list[str]
    rows_duckdb: int
    rows_spark: int
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


# --------------------------------------------------------------------------- building


def dbt_command(target: str) -> list[str]:
    """The command that runs dbt for ``target``: plain dbt on DuckDB, the launcher on Spark."""
    if target == "spark":
        return [sys.executable, "-m", "warehouse_ml.spark.dbt_session"]
    return [sys.executable, "-c", "from dbt.cli.main import cli; cli()"]


def build(
    target: str,
    raw: Path,
    work: Path,
    threads: int = 2,
    command: str = "build",
    project_dir: Path = PROJECT_DIR,
) -> float:
    """Run ``dbt <command>`` for ``target`` into ``work`` (isolated paths); return seconds taken.

    Raises
    ------
    RuntimeError
        If dbt fails; the message holds the end of its output.
    """
    environment = {
        **os.environ,
        "WAREHOUSE_ML_THREADS": str(threads),
        "WAREHOUSE_ML_DUCKDB_PATH": str(work / "warehouse.duckdb"),
        "WAREHOUSE_ML_SPARK_DIR": str(work / "spark"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    args = [
        command, "--target", target,
        "--project-dir", str(project_dir), "--profiles-dir", str(project_dir / "profiles"),
        "--target-path", str(work / f"target-{target}"), "--log-path", str(work / f"logs-{target}"),
        "--vars", json.dumps({"raw_data_path": str(raw)}),
    ]  # fmt: skip
    started = time.perf_counter()
    # dbt's output goes to dbt-<target>.out; the console gets its errors and failures, its summary
    # and a node count at least every 30 s (warehouse_ml.progress).
    nodes = progress.DbtNodes()
    result = progress.run(
        [*dbt_command(target), *args], label=f"parity: dbt {command} --target {target}",
        echo=nodes, status=nodes.status, log=work / f"dbt-{target}.out",
        cwd=project_dir, env=environment,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(
            f"dbt {command} --target {target} failed (exit {result.returncode}); "
            f"see {work / f'dbt-{target}.out'}:\n{result.stdout[-3000:]}"
        )
    return seconds


# --------------------------------------------------------------------------- reading


def mart_keys(manifest_path: Path) -> dict[str, list[str]]:
    """Map every compared table (``<schema>.<alias>``, schemas in ``COMPARED_SCHEMAS``, without
    ``NOT_COMPARED_MODELS``) to its key columns, from the manifest.

    The key is the column list of the table's ``unique_combination_of_columns`` test, or the
    column of its ``unique`` test; a table without either maps to ``[]``.
    """
    manifest = json.loads(manifest_path.read_text())
    marts = {
        uid: f"{node['schema']}.{node['alias']}"
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and node["schema"] in COMPARED_SCHEMAS
        and node["alias"] not in NOT_COMPARED_MODELS
    }
    keys: dict[str, list[str]] = {alias: [] for alias in marts.values()}
    for node in manifest["nodes"].values():
        metadata = node.get("test_metadata") or {}
        attached = node.get("attached_node")
        if node["resource_type"] != "test" or attached not in marts:
            continue
        alias = marts[attached]
        if metadata.get("name") == "unique_combination_of_columns":
            keys[alias] = list(metadata["kwargs"]["combination_of_columns"])
        elif metadata.get("name") == "unique" and not keys[alias]:
            keys[alias] = [metadata["kwargs"]["column_name"]]
    return dict(sorted(keys.items()))


def read_duckdb_mart(database: Path, table: str) -> pa.Table:
    """Read ``<schema>.<alias>`` from the DuckDB file (read-only)."""
    import duckdb

    schema, alias = table.split(".", 1)
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.sql(f'select * from {schema}."{alias}"').to_arrow_table()


def read_spark_mart(spark_dir: Path, table: str) -> pa.Table:
    """Read the Spark managed table ``<schema>.<alias>`` from its Parquet files."""
    schema, alias = table.split(".", 1)
    folder = spark_dir / "warehouse" / f"{schema}.db" / alias
    if not folder.is_dir():
        raise FileNotFoundError(f"no Spark table files at {folder} (a view, or not built)")
    files = sorted(p for p in folder.rglob("*.parquet") if not p.name.startswith((".", "_")))
    if not files:
        raise FileNotFoundError(f"no Parquet files under {folder}")
    return pa.concat_tables([pq.read_table(p) for p in files])


# --------------------------------------------------------------------------- comparing


def _family(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return "numeric"
    if pa.types.is_decimal(arrow_type):
        return "numeric"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "text"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    return str(arrow_type)


def _normalise(column: pa.ChunkedArray) -> pd.Series:
    """A pandas Series comparable across engines (numbers as float64, timestamps as naive us)."""
    kind = _family(column.type)
    if pa.types.is_integer(column.type):
        return pd.Series(column.cast(pa.int64()).to_pylist(), dtype="Int64")
    if kind == "numeric":
        return pd.Series(column.cast(pa.float64()).to_numpy(zero_copy_only=False))
    if kind == "timestamp":
        unit = pa.timestamp("us", tz=column.type.tz)
        values = column.cast(unit)
        if column.type.tz is not None:
            values = values.cast(pa.timestamp("us"))
        return pd.Series(values.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype="Int64")
    return pd.Series(column.to_pylist(), dtype=object)


def _plain(values: Sequence[object]) -> list[object]:
    """Python scalars for messages (no ``np.float64(...)`` / ``<NA>`` noise)."""
    return [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in values]


def compare_tables(
    name: str,
    duckdb_table: pa.Table,
    spark_table: pa.Table,
    keys: Sequence[str],
    rtol: float,
    atol: float = 1e-12,
) -> MartParity:
    """Compare one mart built on both engines (see the module docstring for the rules)."""
    result = MartParity(name, list(keys), duckdb_table.num_rows, spark_table.num_rows)
    duck_columns, spark_columns = duckdb_table.column_names, spark_table.column_names
    if set(duck_columns) != set(spark_columns):
        result.differences.append(
            f"columns differ: only on duckdb {sorted(set(duck_columns) - set(spark_columns))}, "
            f"only on spark {sorted(set(spark_columns) - set(duck_columns))}"
        )
    if result.rows_duckdb != result.rows_spark:
        result.differences.append(f"row counts differ: {result.rows_duckdb} vs {result.rows_spark}")
    if not keys:
        result.differences.append(
            "no key found (add a unique or unique_combination_of_columns test)"
        )
    if result.differences:
        return result
    for engine_name, table in (("duckdb", duckdb_table), ("spark", spark_table)):
        duplicated = int(table.select(list(keys)).to_pandas().duplicated().sum())
        if duplicated:
            result.differences.append(
                f"keys {list(keys)} not unique on {engine_name} ({duplicated} repeated rows): "
                "compare fresh builds (one model version each)"
            )
    if result.differences:
        return result

    duck = pd.DataFrame({c: _normalise(duckdb_table[c]) for c in duck_columns})
    spark = pd.DataFrame({c: _normalise(spark_table[c]) for c in duck_columns})
    duck = duck.sort_values(list(keys), kind="stable", ignore_index=True)
    spark = spark.sort_values(list(keys), kind="stable", ignore_index=True)
    duck_keys, spark_keys = duck[list(keys)].astype(object), spark[list(keys)].astype(object)
    same_key = (duck_keys == spark_keys) | (duck_keys.isna() & spark_keys.isna())
    key_mismatch = ~same_key.all(axis=1)
    if key_mismatch.any():
        row = int(np.flatnonzero(key_mismatch.to_numpy())[0])
        first_duck = _plain(duck.loc[row, list(keys)].tolist())
        first_spark = _plain(spark.loc[row, list(keys)].tolist())
        result.differences.append(
            f"keys differ: {int(key_mismatch.sum())} of {len(duck)} sorted key rows, "
            f"first at duckdb {first_duck} vs spark {first_spark}"
        )
        return result

    for column in duck_columns:
        if column in keys:
            continue
        duck_kind = _family(duckdb_table[column].type)
        spark_kind = _family(spark_table[column].type)
        if duck_kind != spark_kind:
            result.differences.append(
                f"{column}: type family {duck_kind} ({duckdb_table[column].type}) on duckdb, "
                f"{spark_kind} ({spark_table[column].type}) on spark"
            )
            continue
        left, right = duck[column], spark[column]
        if duck_kind == "numeric":
            a = left.to_numpy(dtype=float, na_value=np.nan)
            b = right.to_numpy(dtype=float, na_value=np.nan)
            both_null = np.isnan(a) & np.isnan(b)
            close = np.abs(a - b) <= np.maximum(rtol * np.maximum(np.abs(a), np.abs(b)), atol)
            bad = ~(both_null | close)
        else:
            bad = ~((left.isna() & right.isna()) | (left == right).fillna(False)).to_numpy(bool)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            key = _plain(duck.loc[row, list(keys)].tolist())
            duck_value, spark_value = _plain([left.iloc[row], right.iloc[row]])
            result.differences.append(
                f"{column}: {int(bad.sum())} of {len(duck)} values differ, first at key {key}: "
                f"duckdb {duck_value!r} vs spark {spark_value!r}"
            )
    return result


def compare_marts(work: Path, rtol: float = 1e-9, atol: float = 1e-12) -> list[MartParity]:
    """Compare every table of ``COMPARED_SCHEMAS`` built under ``work`` by :func:`build` on both
    targets, without the ``NOT_COMPARED`` columns (also dropped from the keys)."""
    keys = mart_keys(work / "target-duckdb" / "manifest.json")
    results = []
    for table, table_keys in keys.items():
        table_keys = [key for key in table_keys if key not in NOT_COMPARED]
        duck = _comparable(read_duckdb_mart(work / "warehouse.duckdb", table))
        try:
            spark = read_spark_mart(work / "spark", table)
        except FileNotFoundError as missing:
            result = MartParity(table, table_keys, duck.num_rows, 0, [f"not on spark: {missing}"])
            results.append(result)
            continue
        spark = _comparable(spark)
        results.append(compare_tables(table, duck, spark, table_keys, rtol, atol))
    return results


def _comparable(table: pa.Table) -> pa.Table:
    return table.drop_columns([c for c in table.column_names if c in NOT_COMPARED])


def run_parity(
    raw: Path,
    work: Path,
    threads: int = 2,
    rtol: float = 1e-9,
    skip_build: bool = False,
    project_dir: Path = PROJECT_DIR,
    atol: float = 1e-12,
) -> dict:
    """Build both targets (unless ``skip_build``), compare every mart, write ``parity.json``."""
    work.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    if not skip_build:
        for target in ("duckdb", "spark"):
            seconds[target] = round(build(target, raw, work, threads, project_dir=project_dir), 1)
    results = compare_marts(work, rtol, atol)
    report = {
        "raw_data_path": str(raw),
        "rtol": rtol,
        "atol": atol,
        "build_seconds": seconds,
        "ok": all(r.ok for r in results),
        "marts": [{**asdict(r), "ok": r.ok} for r in results],
    }
    (work / "parity.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build both engines, compare every table, print one line per table."""
    parser = argparse.ArgumentParser(prog="python -m warehouse_ml.parity", description=__doc__)
    parser.add_argument("--raw", type=Path, required=True, help="raw data folder (raw_data_path)")
    parser.add_argument("--work", type=Path, required=True, help="scratch folder for both builds")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rtol", type=float, default=1e-9)
    parser.add_argument("--atol", type=float, default=1e-12)
    parser.add_argument("--skip-build", action="store_true", help="compare the builds in --work")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR)
    options = parser.parse_args(argv)
    report = run_parity(
        options.raw.resolve(), options.work.resolve(), options.threads, options.rtol,
        options.skip_build, options.project_dir.resolve(), options.atol,
    )  # fmt: skip
    for mart in report["marts"]:
        status = "ok  " if mart["ok"] else "DIFF"
        print(f"{status} {mart['name']}: {mart['rows_duckdb']} rows, keys {mart['keys']}")
        for difference in mart["differences"]:
            print(f"       {difference}")
    verdict = "passed" if report["ok"] else "FAILED"
    print(f"build seconds: {report['build_seconds']}; parity {verdict}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
