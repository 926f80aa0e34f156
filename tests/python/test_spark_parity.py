"""Parity: DuckDB and local Spark builds give the same marts, models and scores."""

from __future__ import annotations

import json

import pytest

from warehouse_ml import parity

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark")
pytest.importorskip("dbt.adapters.spark")


def test_every_mart_is_equal_on_duckdb_and_spark(small_raw_dir, tmp_path):
    report = parity.run_parity(small_raw_dir, tmp_path / "parity", threads=2)

    differences = {m["name"]: m["differences"] for m in report["marts"] if not m["ok"]}
    assert report["ok"], json.dumps(differences, indent=2)
    names = {m["name"] for m in report["marts"]}
    assert {
        "marts.fct_ad_ctr_daily",
        "marts.fct_ad_ctr_rolling",
        "marts.fct_customer_churn_features",
        "ml.ml_churn_model",
        "ml.ml_ctr_model",
        "ml.ml_model_metrics",
        "ml.churn_scores",
        "ml.ctr_predictions",
        "ml.ctr_impression_scores",
    } <= names
    assert all(m["rows_duckdb"] > 0 for m in report["marts"])
    assert set(report["build_seconds"]) == {"duckdb", "spark"}
    assert json.loads((tmp_path / "parity" / "parity.json").read_text()) == report
