"""A DuckDB registry export restored into Spark, and the Spark scoring path verifying its rows.

The DuckDB warehouse is built up to both registries and exported (``warehouse-ml registry
export``); a first Spark build with ``ml_registry_restore_path`` pointing at the export restores
every exported version (the same Parquet files, REGISTRY_SCHEMA types) before training, and
builds ``ctr_impression_scores``, whose ``ml_scoring_query`` verifies the CTR row through the
``warehouse_ml_registry_row_problem`` UDF the launcher registers.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import _dbt as dbt
import pytest

from warehouse_ml import parity, registry, registry_archive

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark")
pytest.importorskip("dbt.adapters.spark")

REGISTRIES = ("ml_churn_model", "ml_ctr_model")


def spark_build(work: Path, dbt_vars: dict, select: list[str]) -> str:
    environment = {
        **os.environ,
        "WAREHOUSE_ML_THREADS": "2",
        "WAREHOUSE_ML_SPARK_DIR": str(work / "spark"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    args = [
        "build", "--target", "spark",
        "--project-dir", str(dbt.PROJECT_DIR), "--profiles-dir", str(dbt.PROJECT_DIR / "profiles"),
        "--target-path", str(work / "target-spark"), "--log-path", str(work / "logs-spark"),
        "--vars", dbt.vars_text(dbt_vars),
        "--exclude", "test_type:unit", "--indirect-selection", "cautious", "--select", *select,
    ]  # fmt: skip
    done = subprocess.run(
        [*parity.dbt_command("spark"), *args],
        cwd=dbt.PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "ERROR=0" in output, output[-6000:]
    return output


def test_a_duckdb_export_restores_into_spark_and_spark_verifies_it(small_raw_dir, tmp_path):
    raw = {"raw_data_path": str(small_raw_dir)}
    built = dbt.run_dbt(
        "build",
        tmp_path,
        raw,
        args=["--exclude", "test_type:unit", "--indirect-selection", "cautious"]
        + ["--select", "+ml_churn_model", "+ml_ctr_model"],
    )
    assert built.returncode == 0, dbt.output_of(built)[-4000:]
    export = tmp_path / "export"
    manifest = registry_archive.export_registry(tmp_path / "warehouse.duckdb", export)
    exported = registry_archive.read_export(export)

    output = spark_build(
        tmp_path,
        {**raw, "ml_registry_restore_path": str(export)},
        ["+ml_churn_model", "+ctr_impression_scores"],
    )
    assert "ctr_impression_scores" in output

    for table in REGISTRIES:
        on_spark = parity.read_spark_mart(tmp_path / "spark", f"ml.{table}").to_pylist()
        for row in on_spark:
            registry.verify_row(row)  # the restored bytes and hashes arrived whole
        spark_rows = {(r["model_version"], r["integrity_sha256"]) for r in on_spark}
        restored = {
            (r["model_version"], r["integrity_sha256"]) for r in exported[table].to_pylist()
        }
        assert manifest["tables"][table]["rows"] == len(restored) > 0
        assert restored <= spark_rows, table
        versions = [r["model_version"] for r in on_spark]
        assert len(versions) == len(set(versions)), table
