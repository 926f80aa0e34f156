"""The sampling-validity experiment (warehouse-ml experiment sampling) on the shared small build."""

from __future__ import annotations

import json
import re
from pathlib import Path

import _dbt as dbt
import duckdb
import pytest
from click.testing import CliRunner

from warehouse_ml.cli import main
from warehouse_ml.experiment import sampling
from warehouse_ml.experiment.render import ExperimentInputError

FRACTIONS = (0.25, 0.5, 1.0)
RATES = (1.0, 0.1, 0.025)


@pytest.fixture(scope="module")
def experiment(default_build: dict, small_raw_dir: Path, tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("experiment")
    db = dbt.copy_database(default_build, work)
    results = sampling.run(
        db,
        seeds=2,
        out=work / "results",
        raw=small_raw_dir,
        churn_fractions=FRACTIONS,
        negative_rates=RATES,
        transaction_fraction=0.5,
        progress=False,
    )
    return {"db": db, "results": results, "out": work / "results"}


def test_results_files_hold_every_arm(experiment: dict) -> None:
    written = json.loads((experiment["out"] / "sampling_validity.json").read_text())
    assert written["seeds"] == [42, 1042]
    curve = written["churn"]["learning_curve"]
    assert [point["fraction"] for point in curve] == list(FRACTIONS)
    # A 100% sample does not depend on the seed: fitted once; the others once per seed.
    assert [len(point["runs"]) for point in curve] == [2, 2, 1]
    rows = [point["summary"]["training_rows"]["mean"] for point in curve]
    assert rows == sorted(rows) and rows[0] < rows[-1]
    for point in curve:
        for run in point["runs"]:
            assert run["train_seconds"] > 0
            for dataset in ("holdout", "out_of_time"):
                assert 0.5 <= run["metrics"][dataset]["roc_auc"] <= 1.0
                assert run["metrics"][dataset]["normalized_entropy"] > 0
    assert [p["negative_rate"] for p in written["ctr"]["negative_rates"]] == list(RATES)
    sizes = [p["summary"]["training_rows"]["mean"] for p in written["ctr"]["negative_rates"]]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] < sizes[0]
    designs = written["ctr"]["stratified_vs_random"]
    for stratified, random in zip(
        designs["stratified"]["runs"], designs["random"]["runs"], strict=True
    ):
        assert stratified["training_rows"] == random["training_rows"]  # same size
    assert len(written["acceptance"]) == 4
    paired = written["acceptance"][-1]["figures"]
    new_ne = [
        [run["metrics"]["evaluation_day_new_category"]["normalized_entropy"] for run in runs]
        for runs in (designs["stratified"]["runs"], designs["random"]["runs"])
    ]
    gains = [r - s for s, r in zip(*new_ne, strict=True)]
    assert paired["paired_gain"] == pytest.approx(sum(gains) / len(gains))
    assert all(isinstance(check["holds"], bool) for check in written["acceptance"])
    markdown = (experiment["out"] / "sampling_validity.md").read_text()
    assert "## Churn learning curve" in markdown and "| 100% |" in markdown
    assert written["total_seconds"] > 0 and written["machine"]["cpu_count"] >= 1


def test_serving_design_reproduces_the_registered_champion(experiment: dict) -> None:
    """The arm with the spec's own sample (50% of customers, seed 42) is the serving model."""
    results = experiment["results"]
    churn = results["churn"]["serving_design"]
    assert churn["fraction"] == 0.5 and churn["seed"] == 42
    assert churn["metrics"]["out_of_time"] == pytest.approx(
        churn["registered"]["out_of_time"], abs=1e-12
    )
    ctr = results["ctr"]["serving_design"]
    assert ctr["metrics"]["evaluation_day"] == pytest.approx(
        ctr["registered"]["evaluation_day"], abs=1e-12
    )
    half = next(p for p in results["churn"]["learning_curve"] if p["fraction"] == 0.5)
    with duckdb.connect(str(experiment["db"]), read_only=True) as con:
        train_rows = con.sql(
            "select count(*) from training.trn_churn__cluster_sample where split = 'train'"
        ).fetchall()[0][0]
    assert half["runs"][0]["training_rows"] == train_rows


def test_transaction_arm_and_ceiling(experiment: dict) -> None:
    churn = experiment["results"]["churn"]
    assert churn["transaction_sample"]["fraction"] == 0.5
    assert churn["customer_sample"]["fraction"] == 0.5
    assert len(churn["transaction_sample"]["runs"]) == 2
    ceiling = churn["ceiling"]
    assert ceiling["raw_seed"] == 7 and ceiling["horizon_days"] == 90
    for dataset, figures in ceiling["datasets"].items():
        # The generator's own probability ranks better than any fitted model.
        assert figures["oracle"]["roc_auc"] > figures["model"]["roc_auc"], dataset
        assert figures["gap"]["roc_auc"] == pytest.approx(
            figures["oracle"]["roc_auc"] - figures["model"]["roc_auc"]
        )


def test_missing_database_says_run_make_demo(tmp_path: Path) -> None:
    with pytest.raises(ExperimentInputError, match="run `make demo` first"):
        sampling.run(tmp_path / "absent.duckdb", out=None, progress=False)
    result = CliRunner().invoke(
        main,
        ["experiment", "sampling", "--db", str(tmp_path / "absent.duckdb"), "--out", str(tmp_path)],
    )
    assert result.exit_code == 1
    assert "no built warehouse at" in result.output and "make demo" in result.output


def test_unbuilt_warehouse_names_the_missing_tables(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    with pytest.raises(ExperimentInputError, match="lacks the table.*ml_model_specs"):
        sampling.run(db, out=None, progress=False)


@pytest.mark.parametrize("bad", [0.0, 1.5, -0.1])
def test_fraction_outside_zero_one_is_refused(tmp_path: Path, bad: float) -> None:
    with pytest.raises(ExperimentInputError, match=r"must be a fraction in \(0, 1\]"):
        sampling.run(tmp_path / "any.duckdb", churn_fractions=(bad,), out=None, progress=False)
    result = CliRunner().invoke(
        main,
        [
            "experiment",
            "sampling",
            "--db",
            str(tmp_path / "x.duckdb"),
            "--negative-rates",
            str(bad),
        ],
    )
    assert result.exit_code == 1 and "must be a fraction in (0, 1]" in result.output


def test_report_charts_the_results(experiment: dict, tmp_path: Path) -> None:
    from warehouse_ml.report import write_report

    results = experiment["out"] / "sampling_validity.json"
    index = write_report(experiment["db"], tmp_path / "report", sampling_results=results)[0]
    page = index.read_text()
    charts = dict(re.findall(r'data-chart="(sampling_\w+)" data-points="(\d+)"', page))
    # Learning curve: 3 fractions x 2 datasets; negative rates: 3 rates x 2 datasets.
    assert charts == {"sampling_learning_curve": "6", "sampling_negative_rates": "6"}
    without = write_report(experiment["db"], tmp_path / "plain", sampling_results=None)[0]
    assert "Sampling validity" not in without.read_text()
