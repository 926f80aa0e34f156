"""warehouse_ml.parity: the comparison rules, on hand-made Arrow tables (no engine needed)."""

from __future__ import annotations

import datetime as dt
import json
import sys

import pyarrow as pa
import pytest

from warehouse_ml import parity

KEYS = ["ad_id", "placement"]


def mart(ad_ids, placements, rates, days=None) -> pa.Table:
    columns = {"ad_id": pa.array(ad_ids, pa.int64()), "placement": placements, "ctr": rates}
    if days is not None:
        columns["as_of"] = pa.array(days, pa.timestamp("us"))
    return pa.table(columns)


def test_equal_within_tolerance_in_any_row_order():
    duck = mart([1, 1, 2], ["feed", "search", "feed"], [0.1, None, 1 / 3])
    spark = mart([2, 1, 1], ["feed", "search", "feed"], [1 / 3 * (1 + 4e-10), None, 0.1])
    result = parity.compare_tables("m", duck, spark, KEYS, rtol=1e-9)
    assert result.ok, result.differences
    assert (result.rows_duckdb, result.rows_spark) == (3, 3)


def test_numeric_difference_beyond_tolerance_names_column_and_key():
    duck = mart([1, 2], ["feed", "feed"], [0.1, 0.5])
    spark = mart([1, 2], ["feed", "feed"], [0.1, 0.5 * (1 + 1e-8)])
    result = parity.compare_tables("m", duck, spark, KEYS, rtol=1e-9)
    assert result.differences == [
        "ctr: 1 of 2 values differ, first at key [2, 'feed']: duckdb 0.5 vs spark 0.500000005"
    ]


def test_zero_up_to_rounding_is_equal_but_small_real_differences_are_not():
    duck = mart([1, 2], ["feed", "feed"], [2.1e-15, 1e-6])
    spark = mart([1, 2], ["feed", "feed"], [1.7e-15, 1.1e-6])
    (difference,) = parity.compare_tables("m", duck, spark, KEYS, rtol=1e-9).differences
    assert (
        difference
        == "ctr: 1 of 2 values differ, first at key [2, 'feed']: duckdb 1e-06 vs spark 1.1e-06"
    )
    assert parity.compare_tables("m", duck, spark, KEYS, rtol=1e-9, atol=1e-6).ok


def test_null_against_value_is_a_difference():
    duck = mart([1], ["feed"], [None])
    spark = mart([1], ["feed"], [0.0])
    assert not parity.compare_tables("m", duck, spark, KEYS, 1e-9).ok


def test_row_counts_keys_and_columns():
    duck = mart([1, 2], ["feed", "feed"], [0.1, 0.2])
    shorter = mart([1], ["feed"], [0.1])
    assert parity.compare_tables("m", duck, shorter, KEYS, 1e-9).differences == [
        "row counts differ: 2 vs 1"
    ]
    other_keys = mart([1, 3], ["feed", "feed"], [0.1, 0.2])
    (difference,) = parity.compare_tables("m", duck, other_keys, KEYS, 1e-9).differences
    assert difference.startswith("keys differ: 1 of 2 sorted key rows")
    renamed = duck.rename_columns(["ad_id", "placement", "rate"])
    (difference,) = parity.compare_tables("m", duck, renamed, KEYS, 1e-9).differences
    assert difference == "columns differ: only on duckdb ['ctr'], only on spark ['rate']"


def test_type_family_and_timestamps():
    day = dt.datetime(2025, 5, 1, 12, 30)
    duck = mart([1], ["feed"], [0.1], days=[day])
    spark = mart([1], ["feed"], [0.1]).append_column(
        "as_of",
        pa.array([day], pa.timestamp("ns")),  # Spark's INT96 timestamps read as ns
    )
    assert parity.compare_tables("m", duck, spark, KEYS, 1e-9).ok
    as_text = mart([1], ["feed"], ["0.1"], days=[day])
    (difference,) = parity.compare_tables("m", duck, as_text, KEYS, 1e-9).differences
    assert difference.startswith("ctr: type family numeric (double) on duckdb, text (string)")


def test_null_keys_align():
    """A null in a key column (a metric without a bin) matches a null on the other engine."""
    duck = pa.table(
        {"metric": ["auc", "lift", "lift"], "bin": [None, 1, 2], "value": [0.8, 2.0, 1.5]}
    )
    spark = pa.table(
        {"metric": ["lift", "auc", "lift"], "bin": [2, None, 1], "value": [1.5, 0.8, 2.0]}
    )
    assert parity.compare_tables("m", duck, spark, ["metric", "bin"], 1e-9).ok
    moved = pa.table(
        {"metric": ["lift", "auc", "lift"], "bin": [2, 3, 1], "value": [1.5, 0.8, 2.0]}
    )
    (difference,) = parity.compare_tables("m", duck, moved, ["metric", "bin"], 1e-9).differences
    assert difference.startswith("keys differ: 1 of 3")


def test_repeated_keys_are_refused():
    """Appended model versions share a key once model_version is dropped: refused, not paired."""
    duck = pa.table({"model_name": ["ctr", "ctr"], "row_count": [10, 12]})
    spark = pa.table({"model_name": ["ctr", "ctr"], "row_count": [12, 10]})
    differences = parity.compare_tables("m", duck, spark, ["model_name"], 1e-9).differences
    assert differences == [
        f"keys ['model_name'] not unique on {engine} (1 repeated rows): "
        "compare fresh builds (one model version each)"
        for engine in ("duckdb", "spark")
    ]


def test_run_stamps_are_not_compared():
    """trained_at, scored_at and the artifact bytes differ between runs; other columns count."""
    duck = mart([1], ["feed"], [0.1]).append_column("scored_at", pa.array([1.0]))
    spark = mart([1], ["feed"], [0.1]).append_column("scored_at", pa.array([2.0]))
    assert not parity.compare_tables("m", duck, spark, KEYS, 1e-9).ok
    stripped = [parity._comparable(t) for t in (duck, spark)]
    assert parity.compare_tables("m", *stripped, KEYS, 1e-9).ok
    other = mart([1], ["feed"], [0.2]).append_column("scored_at", pa.array([2.0]))
    assert not parity.compare_tables("m", stripped[0], parity._comparable(other), KEYS, 1e-9).ok


def test_mart_keys_from_manifest(tmp_path):
    def model(alias, schema):
        return {"resource_type": "model", "alias": alias, "schema": schema}

    def test(name, attached, kwargs):
        return {
            "resource_type": "test",
            "attached_node": attached,
            "test_metadata": {"name": name, "kwargs": kwargs},
        }

    manifest = {
        "nodes": {
            "model.p.fct_a": model("fct_a", "marts"),
            "model.p.fct_b": model("fct_b", "marts"),
            "model.p.stg_c": model("stg_c", "staging"),
            "model.p.scores": model("scores", "ml"),
            "t1": test("unique", "model.p.fct_a", {"column_name": "a_id"}),
            "t2": test(
                "unique_combination_of_columns",
                "model.p.fct_b",
                {"combination_of_columns": ["x", "y"]},
            ),
            "t3": test("unique", "model.p.fct_b", {"column_name": "z"}),
            "t4": test("unique", "model.p.stg_c", {"column_name": "c_id"}),
            "t5": test("unique", "model.p.scores", {"column_name": "s_id"}),
        }
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    assert parity.mart_keys(path) == {
        "marts.fct_a": ["a_id"],
        "marts.fct_b": ["x", "y"],
        "ml.scores": ["s_id"],
    }


def test_build_refuses_nothing_silently(tmp_path, monkeypatch):
    """A failing dbt run raises with the output file named."""
    failing_dbt = [sys.executable, "-c", "print('boom'); raise SystemExit(2)"]
    monkeypatch.setattr(parity, "dbt_command", lambda target: failing_dbt)
    with pytest.raises(RuntimeError, match="dbt build --target duckdb failed \\(exit 2\\)"):
        parity.build("duckdb", tmp_path / "raw", tmp_path)
    assert (tmp_path / "dbt-duckdb.out").read_text().strip() == "boom"
