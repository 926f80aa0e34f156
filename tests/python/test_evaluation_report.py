"""Evaluation tables (models/ml/evaluation) and the model report (``warehouse-ml report``).

One throw-away DuckDB is built from the small generated data set (a module-scoped fixture), then
the evaluation models are rebuilt once more: their rows must not change. The tables are checked
against ``ml_model_metrics`` (the same version on the same rows: the AUC the permutation starts
from, the weight the confusion cells share) and against sklearn; the report written from the
database must hold every chart with data and name no URL.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import _dbt as dbt
import duckdb
import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import auc, roc_auc_score

from warehouse_ml import digest, evaluation
from warehouse_ml.cli import main
from warehouse_ml.errors import ModelSpecError, ReportInputError
from warehouse_ml.report import CHART_KEYS, write_report

EVALUATION_TABLES = (
    "ml_model_evaluation_rows",
    "ml_model_roc_curve",
    "ml_model_pr_curve",
    "ml_model_threshold_metrics",
    "ml_model_confusion_matrix",
    "ml_model_feature_importance",
    "ml_model_coefficients",
    "ml_model_score_distribution",
)
DATASETS = {("churn", "holdout"), ("churn", "out_of_time"), ("ctr", "evaluation_day")}


def passed(done: subprocess.CompletedProcess[str]) -> str:
    output = dbt.output_of(done)
    assert done.returncode == 0 and "ERROR=0" in output, output[-6000:]
    return output


def evaluation_digests(database: Path) -> dict:
    with duckdb.connect(str(database), read_only=True) as connection:
        return {
            d.relation: (d.row_count, d.columns_sha256, d.rows_digest)
            for d in digest.table_digests(connection, ["ml"])
            if d.relation.split(".")[-1] in EVALUATION_TABLES
        }


@pytest.fixture(scope="module")
def built(
    small_raw_dir: Path, default_build: dict, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    """A built database (a copy of the session's), and the evaluation tables' digests before and
    after a rebuild of them."""
    work_dir = tmp_path_factory.mktemp("evaluation_report")
    raw = {"raw_data_path": str(small_raw_dir)}
    database = dbt.copy_build(default_build, work_dir)
    first = evaluation_digests(database)
    passed(dbt.run_dbt("build", work_dir, raw, args=["--select", "models/ml/evaluation"]))
    return {
        "database": database,
        "work_dir": work_dir,
        "first": first,
        "again": evaluation_digests(database),
    }


def query(built: dict, sql: str):
    with duckdb.connect(str(built["database"]), read_only=True) as connection:
        return connection.sql(sql).df()


# --------------------------------------------------------------------------- the tables


def test_a_rebuild_gives_the_same_rows(built):
    assert len(built["first"]) == len(EVALUATION_TABLES)
    assert built["again"] == built["first"]


def test_every_table_has_rows_for_every_model_and_dataset(built):
    for table in EVALUATION_TABLES:
        frame = query(built, f"select distinct model_name, * from ml.{table}")
        assert len(frame) > 0, table
    for table in (
        "ml_model_roc_curve",
        "ml_model_pr_curve",
        "ml_model_threshold_metrics",
        "ml_model_confusion_matrix",
        "ml_model_feature_importance",
    ):
        pairs = query(built, f"select distinct model_name, dataset from ml.{table}")
        assert set(map(tuple, pairs.to_numpy())) == DATASETS, table
    counts = query(
        built,
        "select model_name, dataset, count(*) as n from ml.ml_model_threshold_metrics group by all",
    )
    assert (counts["n"] == evaluation.THRESHOLD_RATES).all()


def test_curves_agree_with_the_registered_metrics(built):
    roc = query(built, "select * from ml.ml_model_roc_curve order by model_name, dataset, point")
    metrics = query(
        built,
        "select model_name, dataset, metric, value from ml.ml_model_metrics where bin is null",
    )
    value = {(m, d, k): v for m, d, k, v in metrics.itertuples(index=False)}
    for (model, dataset), curve in roc.groupby(["model_name", "dataset"]):
        assert (curve.iloc[0].false_positive_rate, curve.iloc[0].true_positive_rate) == (0, 0)
        assert (curve.iloc[-1].false_positive_rate, curve.iloc[-1].true_positive_rate) == (1, 1)
        assert curve["false_positive_rate"].is_monotonic_increasing
        # Thinned to <= 200 points, the trapezoid area stays near the exact AUC.
        area = auc(curve["false_positive_rate"], curve["true_positive_rate"])
        assert area == pytest.approx(value[(model, dataset, "roc_auc")], abs=0.01)
    importance = query(
        built,
        "select distinct model_name, dataset, baseline_metric from ml.ml_model_feature_importance",
    )
    for model, dataset, baseline in importance.itertuples(index=False):
        assert baseline == pytest.approx(value[(model, dataset, "roc_auc")], rel=1e-12)
    cells = query(
        built,
        "select model_name, dataset, sum(weight) as weight, "
        "sum(row_count) as row_count, count(distinct threshold) as thresholds "
        "from ml.ml_model_confusion_matrix group by all",
    )
    for model, dataset, weight, rows, thresholds in cells.itertuples(index=False):
        assert weight == pytest.approx(value[(model, dataset, "weight_sum")], rel=1e-12)
        assert rows == value[(model, dataset, "row_count")]
        assert thresholds == 1


def test_one_threshold_per_version_chosen_on_the_promotion_dataset(built):
    frame = query(
        built,
        "select model_name, threshold_dataset, count(distinct threshold) as n "
        "from ml.ml_model_confusion_matrix group by all order by all",
    )
    assert frame.values.tolist() == [["churn", "out_of_time", 1], ["ctr", "evaluation_day", 1]]


def test_coefficients_for_the_linear_model_only(built):
    frame = query(
        built,
        "select model_name, count(*) as n, count_if(term = '(intercept)') as i "
        "from ml.ml_model_coefficients group by all",
    )
    assert frame.values.tolist() == [["ctr", frame.iloc[0].n, 1]] and frame.iloc[0].n > 10


def test_score_shares_sum_to_one_per_dataset(built):
    frame = query(
        built,
        "select model_name, dataset, sum(weight_share) as total, count(*) as n "
        "from ml.ml_model_score_distribution group by all",
    )
    assert np.allclose(frame["total"], 1.0) and (frame["n"] == evaluation.SCORE_BINS).all()
    assert set(frame["dataset"]) >= {"scored_population"}


# --------------------------------------------------------------------------- the library


def test_figures_match_sklearn_on_known_rows():
    rng = np.random.default_rng(3)
    p = rng.uniform(size=3000)
    y = (rng.uniform(size=3000) < p).astype(float)
    w = rng.uniform(0.5, 2.0, size=3000)
    roc = evaluation.roc_points(y, p, w)
    area = auc([r["false_positive_rate"] for r in roc], [r["true_positive_rate"] for r in roc])
    assert area == pytest.approx(roc_auc_score(y, p, sample_weight=w), abs=2e-3)
    rows = evaluation.threshold_rows(y, p, w)
    assert len(rows) == 100 and rows[-1]["recall"] == 1.0 and rows[-1]["lift"] == 1.0
    assert rows[9]["predicted_positive_rate"] == pytest.approx(0.10, abs=0.002)
    threshold = evaluation.best_f1_threshold(y, p, w)
    best = max(r["f1"] for r in rows)
    assert evaluation.at_threshold(y, p, w, threshold)["f1"] >= best - 1e-12
    cells = evaluation.confusion_cells(y, p, w, threshold)
    assert sum(c["weight"] for c in cells) == pytest.approx(w.sum())
    assert sum(c["row_count"] for c in cells) == 3000


def test_evaluation_refs_must_match_the_specs(built):
    with duckdb.connect(str(built["database"]), read_only=True) as connection:
        specs = connection.sql("select * from ml.ml_model_specs")
        aliases = connection.sql("select * from ml.ml_model_aliases")
        with pytest.raises(ModelSpecError, match="ml_ctr_evaluation_day"):
            evaluation.evaluate_models(specs, {"ctr": None}, aliases, {})


# --------------------------------------------------------------------------- the report


@pytest.fixture(scope="module")
def report(built: dict) -> Path:
    out = built["work_dir"] / "reports"
    result = CliRunner().invoke(main, ["report", "--db", str(built["database"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def charts_in(page: str) -> dict[str, int]:
    return {
        key: int(points)
        for key, points in re.findall(
            r'<figure class="chart"[^>]*data-chart="(\w+)" '
            r'data-points="(\d+)"',
            page,
        )
    }


def test_every_chart_is_on_every_page_with_data(report):
    assert sorted(p.name for p in report.glob("*.html")) == ["churn.html", "ctr.html", "index.html"]
    for model, extra in (("churn", ()), ("ctr", ("coefficients",))):
        page = (report / f"{model}.html").read_text()
        found = charts_in(page)
        assert set(found) == set(CHART_KEYS) | set(extra), model
        assert all(points > 0 for points in found.values()), found
        # Each figure holds an inline SVG with drawn paths.
        for figure in re.findall(r'<figure class="chart".*?</figure>', page, flags=re.DOTALL):
            assert "<svg" in figure and figure.count("<path") > 5
        assert "Version and training spec" in page and "sampling spec" in page
        assert "<th>calibration s.e.</th>" in page, "the calibration's noise is shown beside it"


def test_no_page_names_a_url(report):
    for path in report.glob("*.html"):
        page = path.read_text()
        assert not re.search(r"https?://", page), path.name
        links = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page)
        assert all(re.fullmatch(r"[\w.-]+\.html|#[\w-]+", link) for link in links), links
    index = (report / "index.html").read_text()
    assert 'href="churn.html"' in index and 'href="ctr.html"' in index


def test_a_database_without_the_evaluation_tables_is_refused_by_name(tmp_path, built):
    database = tmp_path / "partial.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"attach '{built['database']}' as built (read_only)")
        connection.execute("create schema ml")
        for table in ("ml_model_specs", "ml_model_aliases", "ml_churn_model", "ml_model_metrics"):
            connection.execute(f"create table ml.{table} as select * from built.ml.{table}")
    with pytest.raises(ReportInputError, match="ml.ml_model_roc_curve is not in the database"):
        write_report(database, tmp_path / "out")
    result = CliRunner().invoke(main, ["report", "--db", str(tmp_path / "nope.duckdb")])
    assert result.exit_code != 0 and "does not exist" in result.output
