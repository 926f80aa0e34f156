"""The semantic layer and the ML outputs as products, on one scale-0.02 DuckDB build.

`mf validate-configs` passes on the built database; `mf query` of `click_through_rate`,
`churn_rate`, `predicted_churn_rate` (per day) and `smoothed_click_through_rate` (at the mart's
grain) returns the numbers direct SQL computes on the same build; every ML table an exposure reads
is contracted and public; the public registry views carry no artifact; `ctr_predictions.clicks` is
BIGINT, not HUGEINT.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import _dbt as dbt
import duckdb
import pandas as pd
import pytest

MF = Path(sys.executable).with_name("mf")
PROJECT_LINKS = ("dbt_project.yml", "models", "macros", "seeds", "tests", "analyses")
"""What a throw-away project for `mf` links to: mf reads `<project>/target/semantic_manifest.json`
(a fixed path), so each test build gets its own project folder, not the repository's target/."""


@pytest.fixture(scope="module")
def semantic_build(default_build: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A copy of the session's build (scale 0.02) and a project folder `mf` can run in."""
    work = tmp_path_factory.mktemp("semantic")
    dbt.copy_build(default_build, work)
    project = work / "project"
    project.mkdir()
    for name in PROJECT_LINKS:
        if (dbt.PROJECT_DIR / name).exists():
            (project / name).symlink_to(dbt.PROJECT_DIR / name)
    (project / "target").mkdir()
    target = work / "target_warehouse"
    shutil.copy(target / "semantic_manifest.json", project / "target" / "semantic_manifest.json")
    return {
        "database": work / "warehouse.duckdb",
        "project": project,
        "manifest": json.loads((target / "manifest.json").read_text()),
        "work": work,
    }


def run_mf(build: dict, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DBT_PROJECT_DIR": str(build["project"]),
        "DBT_PROFILES_DIR": str(dbt.PROJECT_DIR / "profiles"),
        "WAREHOUSE_ML_DUCKDB_PATH": str(build["database"]),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    return subprocess.run(
        [str(MF), *args], cwd=build["project"], env=env, capture_output=True, text=True, timeout=600
    )


def mf_query(build: dict, metrics: str, group_by: str, *args: str) -> pd.DataFrame:
    """`mf query --metrics ... --group-by ...` as a frame (its --csv output)."""
    out = build["work"] / f"mf_{metrics.replace(',', '_')}_{group_by.replace(',', '_')}.csv"
    done = run_mf(
        build, "query", "--metrics", metrics, "--group-by", group_by, "--csv", str(out), *args
    )
    assert done.returncode == 0 and out.exists(), done.stdout + done.stderr
    return pd.read_csv(out)


def sql(build: dict, query: str) -> pd.DataFrame:
    with duckdb.connect(str(build["database"]), read_only=True) as connection:
        return connection.sql(query).df()


def by_day(frame: pd.DataFrame, day_column: str) -> pd.DataFrame:
    """Rows keyed by calendar day, sorted, so a mf result and a SQL result line up."""
    frame = frame.assign(day=pd.to_datetime(frame[day_column]).dt.date).drop(columns=[day_column])
    return frame.set_index("day").sort_index()


def test_mf_validate_configs_passes_on_the_built_database(semantic_build: dict) -> None:
    done = run_mf(semantic_build, "validate-configs")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # semantics, then the warehouse: semantic models, dimensions, entities, measures, metrics
    assert output.count("Successfully validated") == 6, output
    assert "ERRORS: 0" in output and "ERRORS: 1" not in output, output


def test_click_through_rate_per_day_matches_the_daily_mart(semantic_build: dict) -> None:
    semantic = by_day(
        mf_query(semantic_build, "click_through_rate", "metric_time__day"), "metric_time__day"
    )
    direct = by_day(
        sql(
            semantic_build,
            """
            select
                impression_date,
                cast(sum(clicks) as double) / sum(impressions) as click_through_rate
            from marts.fct_ad_ctr_daily
            group by impression_date
            """,
        ),
        "impression_date",
    )
    assert len(direct) > 30
    assert list(semantic.index) == list(direct.index)
    assert semantic["click_through_rate"].to_numpy() == pytest.approx(
        direct["click_through_rate"].to_numpy(), rel=1e-12, abs=0
    )


def test_churn_rates_per_observation_date_match_direct_sql(semantic_build: dict) -> None:
    semantic = by_day(
        mf_query(semantic_build, "churn_rate,predicted_churn_rate", "metric_time__day"),
        "metric_time__day",
    )
    observed = by_day(
        sql(
            semantic_build,
            """
            select observation_date, avg(case when is_churned then 1.0 else 0.0 end) as churn_rate
            from marts.fct_customer_churn_features
            where is_label_complete
            group by observation_date
            """,
        ),
        "observation_date",
    )
    predicted = by_day(
        sql(
            semantic_build,
            """
            select observation_date, avg(churn_probability) as predicted_churn_rate
            from ml.public_churn_scores
            group by observation_date
            """,
        ),
        "observation_date",
    )
    assert len(observed) > 3 and len(predicted) == 1
    labelled = semantic["churn_rate"].dropna()
    assert list(labelled.index) == list(observed.index)
    assert labelled.to_numpy() == pytest.approx(observed["churn_rate"].to_numpy(), rel=1e-12, abs=0)
    scored = semantic["predicted_churn_rate"].dropna()
    assert list(scored.index) == list(predicted.index)
    assert scored.to_numpy() == pytest.approx(
        predicted["predicted_churn_rate"].to_numpy(), rel=1e-9, abs=0
    )


def test_smoothed_click_through_rate_at_the_marts_grain_is_the_marts_column(
    semantic_build: dict,
) -> None:
    group_by = "ad,ad_ctr_window__placement,ad_ctr_window__window_days,metric_time__day"
    semantic = mf_query(
        semantic_build,
        "smoothed_click_through_rate",
        group_by,
        "--where",
        "{{ Dimension('ad_ctr_window__window_days') }} = 7",
    )
    semantic = semantic.rename(
        columns={"ad": "ad_id", "ad_ctr_window__placement": "placement", "metric_time__day": "day"}
    ).assign(day=lambda f: pd.to_datetime(f["day"]).dt.date)
    direct = sql(
        semantic_build,
        """
        select ad_id, placement, as_of_date as day, smoothed_click_through_rate as mart_rate
        from marts.fct_ad_ctr_rolling
        where window_days = 7
        """,
    ).assign(day=lambda f: pd.to_datetime(f["day"]).dt.date)
    merged = semantic.merge(direct, on=["ad_id", "placement", "day"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert merged["smoothed_click_through_rate"].to_numpy() == pytest.approx(
        merged["mart_rate"].to_numpy(), rel=1e-12, abs=0
    )


def test_every_table_an_exposure_reads_is_a_contracted_public_product(semantic_build: dict) -> None:
    nodes = semantic_build["manifest"]["nodes"]
    exposures = semantic_build["manifest"]["exposures"]
    assert {e["name"] for e in exposures.values()} >= {
        "churn_risk_dashboard",
        "ctr_monitoring_dashboard",
    }
    for exposure in exposures.values():
        assert exposure["owner"]["name"]
        assert exposure.get("url") is None or "example.com" not in exposure["url"]
        parents = exposure["depends_on"]["nodes"]
        assert any(".ml." in p or "public_" in p for p in parents), exposure["name"]
        for parent in parents:
            node = nodes[parent]
            # the marts' contracts are the marts' own (the churn features' columns follow vars)
            if node["schema"] == "ml":
                assert node["contract"]["enforced"], f"{exposure['name']}: {node['name']}"
                assert node["access"] == "public" and node["group"] == "ml_outputs", node["name"]


def test_ml_outputs_bi_reads_are_contracted_and_python_outputs_have_a_public_sql_model(
    semantic_build: dict,
) -> None:
    nodes = {n["name"]: n for n in semantic_build["manifest"]["nodes"].values() if "name" in n}
    public = {
        "public_churn_scores": "churn_scores",
        "public_ctr_predictions": "ctr_predictions",
        "public_ml_model_metrics": "ml_model_metrics",
        "public_ml_model_decisions": "ml_model_decisions",
        "ml_churn_model_versions": "ml_churn_model",
        "ml_ctr_model_versions": "ml_ctr_model",
    }
    for name, source in public.items():
        node = nodes[name]
        assert node["language"] == "sql" and node["contract"]["enforced"], name
        assert node["access"] == "public" and node["group"] == "ml_outputs", name
        assert node["depends_on"]["nodes"] == [nodes[source]["unique_id"]], name
    for name in (
        "ml_model_aliases",
        "churn_score_history",
        "ctr_prediction_history",
        "ctr_impression_scores",
    ):
        assert nodes[name]["contract"]["enforced"] and nodes[name]["access"] == "public", name
    groups = semantic_build["manifest"]["groups"]
    owners = [g["owner"]["name"] for g in groups.values() if g["name"] == "ml_outputs"]
    assert owners == ["ML platform"]


def test_public_registry_views_hold_no_artifact_and_counts_are_bigint(semantic_build: dict) -> None:
    with duckdb.connect(str(semantic_build["database"]), read_only=True) as connection:
        for model_name in ("churn", "ctr"):
            view = f"ml.ml_{model_name}_model_versions"
            columns = {row[0]: row[1] for row in connection.sql(f"describe {view}").fetchall()}
            assert "artifact" not in columns and "BLOB" not in columns.values(), view
            assert not {"scoring_sql_duckdb", "scoring_sql_spark", "signature"} & set(columns), view
            registry = f"ml.ml_{model_name}_model"
            registered = connection.execute(f"select count(*) from {registry}").fetchall()
            assert connection.execute(f"select count(*) from {view}").fetchall() == registered
        for table in (
            "ml.ctr_predictions",
            "ml.public_ctr_predictions",
            "ml.ctr_prediction_history",
        ):
            types = {row[0]: row[1] for row in connection.sql(f"describe {table}").fetchall()}
            assert types["clicks"] == "BIGINT" and types["impressions"] == "BIGINT", (table, types)
