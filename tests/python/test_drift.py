"""Score history and drift on small builds (scale 0.02, raw data without the new-category launch).

The raw data is generated with ``new_category=False`` (``warehouse-ml generate --no-new-category``):
the launch is real drift, which the unshifted builds must not see. Each build is of what the
module reads (``DRIFT``: the drift report, the histories and every model they are built from,
with every data test of those; not the evaluation tables and reports, which nothing here reads;
the unit tests, independent of the raw data, run in the session's default build at the same
vars). Three builds share one warehouse: the raw data cut before its last month (the scoring
date is then the month before), the whole raw data, and the scorers, histories and drift report
once more on the whole raw data.
The histories keep both scoring dates; the second build's drift report compares the churn score
with the first build's; the third re-scores the same dates with the same versions and adds
nothing, and a ``--full-refresh`` keeps the histories. A fourth build, in its own warehouse, reads
raw files in which the quantity of every transaction of the last 30 days is multiplied by 4
(foreign data, no var and no test-only code path): the drift test warns naming
``total_quantity_30d``; the unshifted builds of the same data should warn about nothing at all.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import _dbt as dbt
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from warehouse_ml import ctr
from warehouse_ml.generate import write_dataset

SHIFTED_FEATURE = "total_quantity_30d"
HISTORIES = {
    "churn_score_history": ["customer_id", "observation_date", "model_version"],
    "ctr_prediction_history": [*ctr.PREDICTION_GRAIN, "model_version"],
}
# What the module reads, and every model and data test it is built from (cautious: the tests
# whose every parent is built; the warehouse starts empty).
DRIFT = [
    *("--exclude", "test_type:unit", "--indirect-selection", "cautious", "--select"),
    *("+ml_feature_drift", *(f"+{table}" for table in HISTORIES)),
]
RESCORED = (
    "churn_scores",
    "ctr_predictions",
    "ctr_impression_scores",
    *HISTORIES,
    "ml_feature_drift",
)
DRIFT_WARNING = re.compile(
    r"drift: model (\w+) \(version [0-9a-f]+\), feature (\w+) \((numeric|categorical|score)\), "
    r"comparison (\w+): worst stratum (\w+)=(\S+): "
    r"(psi|js_divergence|ks_statistic) [0-9.e+-]+ > threshold"
)
ANY_DRIFT_WARNING = re.compile(r"drift: model ")


def _rewrite_transactions(source: Path, target: Path, change) -> Path:
    """Copy the raw folder ``source`` to ``target`` with ``change`` applied to the transactions."""
    shutil.copytree(source, target)
    for file in sorted((target / "transactions").glob("*.parquet")):
        pq.write_table(change(pq.read_table(file)), file)
    return target


def _last_transaction(raw: Path) -> pa.Scalar:
    tables = [pq.read_table(f) for f in (raw / "transactions").glob("*.parquet")]
    return pc.max(pa.concat_tables(tables)["transacted_at"])


def _before_last_month(raw: Path, target: Path) -> Path:
    last = _last_transaction(raw).as_py()
    month_start = pa.scalar(last.replace(day=1, hour=0, minute=0, second=0, microsecond=0))

    def cut(table: pa.Table) -> pa.Table:
        return table.filter(pc.less(table["transacted_at"], month_start))

    return _rewrite_transactions(raw, target, cut)


def _recent_quantity_times_four(raw: Path, target: Path) -> Path:
    since = pa.scalar(_last_transaction(raw).as_py() - timedelta(days=30))

    def shift(table: pa.Table) -> pa.Table:
        recent = pc.greater_equal(table["transacted_at"], since)
        quantity = pc.if_else(recent, pc.multiply(table["quantity"], 4), table["quantity"])
        index = table.schema.get_field_index("quantity")
        return table.set_column(index, "quantity", quantity.cast(pa.int32()))

    return _rewrite_transactions(raw, target, shift)


def _build(raw: Path, work: Path, args: Sequence[str] = DRIFT) -> str:
    done = dbt.run_dbt("build", work, {"raw_data_path": str(raw)}, args=args)
    output = dbt.output_of(done)
    assert done.returncode == 0, output[-4000:]
    return output


def _warnings(output: str) -> list[tuple[str, ...]]:
    return DRIFT_WARNING.findall(output)


def _history_rows(work: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as connection:
        return {
            table: sorted(connection.sql(f"select * from ml.{table}").fetchall(), key=repr)
            for table in HISTORIES
        }


@pytest.fixture(scope="module")
def unlaunched_raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scale 0.02, seed 7, without the new-category launch: a population with no real drift."""
    out = tmp_path_factory.mktemp("raw_unlaunched") / "raw"
    write_dataset(out, scale=0.02, seed=7, new_category=False)
    return out


@pytest.fixture(scope="module")
def history_builds(unlaunched_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("drift")
    work = root / "history"
    work.mkdir()
    earlier = _before_last_month(unlaunched_raw_dir, root / "raw_earlier")
    outputs = [_build(earlier, work), _build(unlaunched_raw_dir, work)]
    after_second = _history_rows(work)
    # Re-score without retraining: the same dates, the same versions (a retrain of unchanged data is
    # the rebuild-determinism tests' business).
    outputs.append(_build(unlaunched_raw_dir, work, ["--select", *RESCORED]))
    after_third = _history_rows(work)
    refreshed = dbt.run_dbt(
        "run", work, {"raw_data_path": str(unlaunched_raw_dir)},
        args=["--full-refresh", "--select", *HISTORIES],
    )  # fmt: skip
    assert refreshed.returncode == 0, dbt.output_of(refreshed)[-4000:]
    return {
        "work": work,
        "outputs": outputs,
        "after_second": after_second,
        "after_third": after_third,
        "after_full_refresh": _history_rows(work),
    }


@pytest.fixture(scope="module")
def shifted_build(unlaunched_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("drift_shift")
    work = root / "shifted"
    work.mkdir()
    shifted = _recent_quantity_times_four(unlaunched_raw_dir, root / "raw_shifted")
    return {"work": work, "output": _build(shifted, work)}


def test_history_keeps_every_scoring_date_with_its_version(history_builds):
    with duckdb.connect(str(history_builds["work"] / "warehouse.duckdb"), read_only=True) as db:
        dates = db.sql(
            "select observation_date, count(distinct model_version), count(*) "
            "from ml.churn_score_history group by 1 order by 1"
        ).fetchall()
        scored = db.sql("select count(*) from ml.churn_scores").fetchall()[0][0]
    assert len(dates) == 2, dates  # the month before and the last month
    assert all(versions == 1 for _, versions, _ in dates), dates
    assert dates[-1][2] == scored


def test_rescoring_the_same_dates_with_the_same_versions_adds_nothing(history_builds):
    assert history_builds["after_third"] == history_builds["after_second"]  # scored_at included


def test_full_refresh_keeps_the_histories(history_builds):
    assert history_builds["after_full_refresh"] == history_builds["after_third"]


def test_history_keys_are_the_prediction_grain_and_unique(history_builds):
    manifest = (history_builds["work"] / "target_warehouse" / "manifest.json").read_text()
    nodes = json.loads(manifest)["nodes"]
    for table, key in HISTORIES.items():
        node = nodes[f"model.warehouse_ml.{table}"]
        assert node["config"]["meta"]["history_key"] == key
        assert node["config"]["full_refresh"] is False
        tests = [
            n["test_metadata"]["kwargs"]["combination_of_columns"]
            for n in nodes.values()
            if n.get("attached_node") == node["unique_id"]
            and (n.get("test_metadata") or {}).get("name") == "unique_combination_of_columns"
        ]
        assert tests == [key]


def test_drift_report_covers_every_feature_of_each_spec_and_the_score(history_builds):
    with duckdb.connect(str(history_builds["work"] / "warehouse.duckdb"), read_only=True) as db:
        specs = {
            name: set(json.loads(numeric)) | set(json.loads(categorical))
            for name, numeric, categorical in db.sql(
                "select model_name, numeric_features, categorical_features from ml.ml_model_specs"
            ).fetchall()
        }
        covered = db.sql(
            "select model_name, comparison, list(distinct feature) from ml.ml_feature_drift "
            "where stratum_column = '__all__' group by all"
        ).fetchall()
        score = db.sql(
            "select model_name, reference_rows, current_rows, psi from ml.ml_feature_drift "
            "where feature_kind = 'score' and stratum_column = '__all__'"
        ).fetchall()
        strata = db.sql(
            "select model_name, list(distinct stratum_column order by stratum_column) "
            "from ml.ml_feature_drift group by all order by 1"
        ).fetchall()
    for model_name, comparison, features in covered:
        expected = specs[model_name] | (
            {"score"} if comparison == "previous_scoring_date" else set()
        )
        assert set(features) == expected, (model_name, comparison)
    assert {model_name for model_name, *_ in score} == {"churn", "ctr"}
    # The second build compared the churn score with the first build's, from the history.
    assert all(
        reference > 0 and current > 0 and psi is not None for _, reference, current, psi in score
    )
    assert strata == [("churn", ["__all__", "segment"]), ("ctr", ["__all__", "placement"])]


def test_with_no_shift_the_drift_test_stays_quiet(history_builds):
    # Both scoring dates (the second compares each feature and the score with the first) and the
    # re-scoring: no drift warning at all, and the test passes.
    for output in history_builds["outputs"]:
        assert not ANY_DRIFT_WARNING.search(output), ANY_DRIFT_WARNING.findall(output)
    with duckdb.connect(str(history_builds["work"] / "warehouse.duckdb"), read_only=True) as db:
        drifted, trend = db.sql(
            "select count(*) filter (where is_drifted), "
            "count(*) filter (where not is_monitored) from ml.ml_feature_drift"
        ).fetchall()[0]
    assert drifted == 0
    assert trend > 0  # the trend features are reported, not monitored


def test_trend_features_are_reported_but_not_monitored(history_builds):
    with duckdb.connect(str(history_builds["work"] / "warehouse.duckdb"), read_only=True) as db:
        unmonitored = db.sql(
            "select distinct model_name, feature from ml.ml_feature_drift "
            "where not is_monitored order by all"
        ).fetchall()
        drifted = db.sql(
            "select count(*) from ml.ml_feature_drift where not is_monitored and is_drifted"
        ).fetchall()[0][0]
    assert unmonitored == [("churn", "tenure_days"), ("ctr", "days_since_category_launch")]
    assert drifted == 0


def test_a_shifted_feature_warns_naming_model_feature_comparison_and_figure(shifted_build):
    shifted = _warnings(shifted_build["output"])
    named = {(m, c) for m, f, _, c, _, _, fig in shifted if f == SHIFTED_FEATURE and fig == "psi"}
    assert ("churn", "training_sample") in named, shifted
    assert ("churn", "previous_scoring_date") in named, shifted
    # One warning per model, feature and comparison (the worst stratum), not one per stratum.
    groups = [(m, f, c) for m, f, _, c, *_ in shifted]
    assert len(groups) == len(set(groups)), shifted
    assert len(shifted) == len(ANY_DRIFT_WARNING.findall(shifted_build["output"]))
    assert "WARN" in shifted_build["output"] and "drift_below_threshold" in shifted_build["output"]


def test_is_drifted_flags_exactly_the_psi_warnings(shifted_build):
    """``ml_feature_drift.is_drifted`` (what BI filters on) marks the (model, feature, comparison)
    that the drift test warned about on the PSI, and nothing else."""
    warned = {(m, f, c) for m, f, _, c, _, _, fig in _warnings(shifted_build["output"])}
    psi_warned = {
        (m, f, c) for m, f, _, c, _, _, fig in _warnings(shifted_build["output"]) if fig == "psi"
    }
    with duckdb.connect(str(shifted_build["work"] / "warehouse.duckdb"), read_only=True) as db:
        drifted = set(
            db.sql(
                "select distinct model_name, feature, comparison from ml.ml_feature_drift "
                "where is_drifted"
            ).fetchall()
        )
    assert (("churn", SHIFTED_FEATURE, "training_sample")) in drifted
    assert drifted == psi_warned, (drifted, warned)


def test_an_unchanged_rebuild_gives_the_same_drift_figures(history_builds):
    outputs = history_builds["outputs"]
    assert sorted(_warnings(outputs[2])) == sorted(_warnings(outputs[1]))
