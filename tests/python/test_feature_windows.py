"""A changed windows var changes the marts, the model spec and the registry's features.

Each test builds the project on the small generated data set with one windows var changed, in a
throw-away DuckDB and target path: the whole project, every data and unit test, with nothing else
edited; then the marts, the spec, the registry and the scores are read.
"""

from __future__ import annotations

import json
from pathlib import Path

import _dbt as dbt
import duckdb
import pytest


def dbt_build(work_dir: Path, dbt_vars: dict[str, object]) -> str:
    """Run a whole ``dbt build`` (every model, data test and unit test) with ``dbt_vars``.

    Fails the test unless dbt exits 0 and reports 0 errors; returns its output.
    """
    done = dbt.run_dbt("build", work_dir, dbt_vars)
    output = dbt.output_of(done)
    assert done.returncode == 0, output[-6000:]
    assert "ERROR=0" in output, output[-6000:]
    return output


def qualified(connection: duckdb.DuckDBPyConnection, table: str) -> str:
    """``schema.table`` of the one model table named ``table`` (dbt puts layers in schemas)."""
    schemas = connection.execute(
        "select table_schema from information_schema.tables "
        "where table_name = ? and table_schema not like '%dbt_test__audit'",
        [table],
    ).fetchall()
    assert len(schemas) == 1, f"expected one table {table}, found schemas {schemas}"
    return f"{schemas[0][0]}.{table}"


def columns_of(connection: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Column names of the table ``table``, in order."""
    schema, name = qualified(connection, table).split(".")
    rows = connection.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    return [row[0] for row in rows]


def spec_features(connection: duckdb.DuckDBPyConnection, model_name: str) -> list[str]:
    """The numeric + categorical features of ``model_name`` in ml_model_specs."""
    numeric, categorical = connection.execute(
        "select numeric_features, categorical_features from "  # noqa: S608
        f"{qualified(connection, 'ml_model_specs')} where model_name = ?",
        [model_name],
    ).fetchone()
    return json.loads(numeric) + json.loads(categorical)


def registry_features(connection: duckdb.DuckDBPyConnection, registry: str) -> list[str]:
    """The feature names of the newest row of a model registry (its ``features`` JSON list)."""
    (features,) = connection.execute(
        f"select features from {qualified(connection, registry)} "  # noqa: S608
        "order by trained_at desc limit 1"
    ).fetchone()
    parsed = json.loads(features)
    return [feature["name"] if isinstance(feature, dict) else feature for feature in parsed]


def scored_versions(connection: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, set]:
    """The model versions each score table holds (a table with no rows gives an empty set)."""
    return {
        table: {
            row[0]
            for row in connection.execute(
                f"select distinct model_version from ml.{table}"  # noqa: S608
            ).fetchall()
        }
        for table in tables
    }


@pytest.fixture(scope="module")
def ctr_windows_3_14(small_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole project built with ``ctr_rolling_windows_days: [3, 14]``."""
    work_dir = tmp_path_factory.mktemp("ctr_windows")
    dbt_build(work_dir, {"raw_data_path": str(small_raw_dir), "ctr_rolling_windows_days": [3, 14]})
    return work_dir


@pytest.fixture(scope="module")
def churn_windows_30_60(small_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole project built with ``churn_feature_windows_days: [30, 60]``."""
    work_dir = tmp_path_factory.mktemp("churn_windows")
    dbt_build(
        work_dir, {"raw_data_path": str(small_raw_dir), "churn_feature_windows_days": [30, 60]}
    )
    return work_dir


CTR_NEW = [
    "ad_previous_impressions_3d",
    "ad_previous_smoothed_click_through_rate_3d",
    "ad_previous_impressions_14d",
    "ad_previous_smoothed_click_through_rate_14d",
]
CHURN_NEW = [
    f"{measure}_{window}d"
    for window in (30, 60)
    for measure in (
        "transaction_count",
        "total_amount",
        "avg_basket_amount",
        "total_quantity",
        "distinct_products",
        "new_category_spend_share",
    )
]


def test_ctr_windows_reach_marts_and_spec(ctr_windows_3_14: Path) -> None:
    with duckdb.connect(str(ctr_windows_3_14 / "warehouse.duckdb"), read_only=True) as connection:
        rolling = qualified(connection, "fct_ad_ctr_rolling")
        windows = connection.execute(
            f"select distinct window_days from {rolling} order by 1"  # noqa: S608
        ).fetchall()
        assert windows == [(3,), (14,)]
        mart = columns_of(connection, "fct_impression_features")
        populations = (
            "trn_ctr__recent_sample",
            "ml_ctr_scoring_population",
            "ml_ctr_evaluation_day",
        )
        for table in populations:
            assert columns_of(connection, table)[: len(mart)] == mart, table
        assert [c for c in mart if c.startswith("ad_previous_")] == [
            f"ad_previous_{measure}_{window}d"
            for window in (3, 14)
            for measure in (
                "impressions",
                "clicks",
                "click_through_rate",
                "smoothed_click_through_rate",
            )
        ]
        features = spec_features(connection, "ctr")
        assert features == [
            *CTR_NEW,
            "user_previous_impressions",
            "user_previous_click_through_rate",
            "days_since_category_launch",
            "is_new_category",
            "viewer_category_previous_smoothed_click_through_rate",
            "viewer_category_previous_click_log_odds",
            "viewer_category_previous_log_impressions",
            "ad_id",
            "placement",
            "device",
            "impression_hour",
            "viewer_category_history_cell",
        ]
        assert set(features) <= set(mart)
        # the 3-day window really is 3 days: its impressions never exceed the 14-day window's
        (wider,) = connection.execute(
            f"select count(*) from {qualified(connection, 'fct_impression_features')} "  # noqa: S608
            "where ad_previous_impressions_3d > ad_previous_impressions_14d"
        ).fetchone()
        assert wider == 0
        # the churn spec is untouched by a CTR var
        assert "transaction_count_365d" in spec_features(connection, "churn")


def test_ctr_windows_reach_registry_and_scores(ctr_windows_3_14: Path) -> None:
    with duckdb.connect(str(ctr_windows_3_14 / "warehouse.duckdb"), read_only=True) as connection:
        features = registry_features(connection, "ml_ctr_model")
        scored = scored_versions(connection, ["ctr_predictions", "ctr_impression_scores"])
        (version,) = connection.execute(
            "select model_version from ml.ml_model_aliases "
            "where model_name = 'ctr' and alias = 'champion'"
        ).fetchone()
    assert scored == {"ctr_predictions": {version}, "ctr_impression_scores": {version}}
    assert set(CTR_NEW) <= set(features)
    assert not [name for name in features if name.endswith(("_7d", "_28d"))]


def test_churn_windows_reach_marts_and_spec(churn_windows_30_60: Path) -> None:
    database = str(churn_windows_30_60 / "warehouse.duckdb")
    with duckdb.connect(database, read_only=True) as connection:
        mart = columns_of(connection, "fct_customer_churn_features")
        assert [c for c in mart if c.endswith("d") and c[-2].isdigit()] == CHURN_NEW
        for table in (
            "trn_churn__cluster_sample",
            "ml_churn_scoring_population",
            "ml_churn_evaluation_out_of_time",
        ):
            assert columns_of(connection, table)[: len(mart)] == mart, table
        features = spec_features(connection, "churn")
        assert features == [
            "tenure_days",
            "recency_days",
            *CHURN_NEW,
            "transaction_trend_ratio",
            "amount_trend_ratio",
            "segment",
            "region",
            "acquisition_channel",
        ]
        # a 30-day window never holds more than the 60-day one
        (wider,) = connection.execute(
            f"select count(*) from {qualified(connection, 'fct_customer_churn_features')} "  # noqa: S608
            "where transaction_count_30d > transaction_count_60d"
        ).fetchone()
        assert wider == 0
        assert "ad_previous_impressions_28d" in spec_features(connection, "ctr")


def test_churn_windows_reach_registry_and_scores(churn_windows_30_60: Path) -> None:
    database = str(churn_windows_30_60 / "warehouse.duckdb")
    with duckdb.connect(database, read_only=True) as connection:
        features = registry_features(connection, "ml_churn_model")
        scored = scored_versions(connection, ["churn_scores"])
        (version,) = connection.execute(
            "select model_version from ml.ml_model_aliases "
            "where model_name = 'churn' and alias = 'champion'"
        ).fetchone()
    assert scored == {"churn_scores": {version}}
    assert set(CHURN_NEW) <= set(features)
    assert not [name for name in features if name.endswith(("_90d", "_180d", "_365d"))]
