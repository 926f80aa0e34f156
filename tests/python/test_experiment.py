"""The sampling-validity experiment (warehouse-ml experiment sampling) on the shared small build."""

from __future__ import annotations

import json
import re
from pathlib import Path

import _dbt as dbt
import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

from warehouse_ml import metrics
from warehouse_ml.cli import main
from warehouse_ml.experiment import oracle, sampling
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


def test_ctr_ceiling_is_the_generators_click_probability(
    experiment: dict, small_raw_dir: Path
) -> None:
    """The CTR oracle joins the generator's latents to the warehouse's impressions correctly."""
    ceiling = experiment["results"]["ctr"]["ceiling"]
    assert ceiling["raw_seed"] == 7 and ceiling["launch"]["new_category"] is True
    day = ceiling["datasets"]["evaluation_day"]
    # The generator's own probability ranks better than the fitted model, and its NE is lower.
    assert day["oracle"]["roc_auc"] > day["model"]["roc_auc"] > 0.5
    assert day["oracle"]["normalized_entropy"] < day["model"]["normalized_entropy"]
    assert day["gap"]["roc_auc"] == pytest.approx(
        day["oracle"]["roc_auc"] - day["model"]["roc_auc"]
    )
    assert day["oracle"]["calibration"] == pytest.approx(
        day["oracle_expected_clicks"] / day["clicks"]
    )
    assert day["model_over_oracle"] == pytest.approx(
        day["model_expected_clicks"] / day["oracle_expected_clicks"]
    )
    assert "evaluation_day_new_category" in ceiling["datasets"]
    days = ceiling["days"]
    assert len(days) == sampling.CTR_CEILING_DAYS + 1
    assert days[-1]["clicks"] == day["clicks"] and days[-1]["impressions"] == day["impressions"]
    # Over the eight days the clicks are the generator's draws: observed within 4 binomial
    # standard errors of the expected clicks (a wrong join -- an ad, viewer or hour off -- fails).
    clicks = sum(d["clicks"] for d in days)
    expected = sum(d["oracle_calibration"] * d["clicks"] for d in days)
    # A day's standard deviation of clicks is its standard error times its expected clicks.
    variance = sum(
        (d["calibration_standard_error"] * d["oracle_calibration"] * d["clicks"]) ** 2 for d in days
    )
    assert abs(expected - clicks) < 4 * variance**0.5, (expected, clicks)
    markdown = (experiment["out"] / "sampling_validity.md").read_text()
    assert "## CTR ceiling" in markdown and "| evaluation_day | oracle |" in markdown
    assert "| evaluation_day | point_in_time |" in markdown


def test_ctr_point_in_time_posterior_sits_between_the_oracle_and_no_history(
    experiment: dict,
) -> None:
    """The best past-only predictor: worse than knowing the interests, unbiased in clicks."""
    day = experiment["results"]["ctr"]["ceiling"]["datasets"]["evaluation_day"]
    best = day["point_in_time"]
    assert day["oracle"]["normalized_entropy"] < best["normalized_entropy"] < 1.0
    assert day["oracle"]["roc_auc"] > best["roc_auc"] > 0.5
    # Its expected clicks are the generator's, within the clicks' own noise.
    assert abs(day["point_in_time_over_oracle"] - 1) < 2 * day["calibration_standard_error"]


SLOPE, K, CONCENTRATION = 5.0, 4, 0.6


def _terms(viewer, category, at, offset, clicked=None) -> dict:
    terms = {
        "viewer": np.asarray(viewer),
        "category": np.asarray(category),
        "at": np.asarray(at),
        "offset": np.asarray(offset, dtype=float),
    }
    if clicked is not None:
        terms["clicked"] = np.asarray(clicked, dtype=bool)
    return terms


def _posterior(history: dict, rows: dict, **kwargs) -> np.ndarray:
    return oracle.interest_posterior_predictive(
        history,
        rows,
        slope=SLOPE,
        n_categories=K,
        concentration=CONCENTRATION,
        **{"steps": 1500, "burn_in": 500, **kwargs},
    )


def test_posterior_without_history_is_the_prior_predictive() -> None:
    n = 3000
    rows = _terms(np.arange(n), np.arange(n) % K, np.zeros(n), np.full(n, -3.0))
    empty = _terms([], [], [], [], [])
    predicted = _posterior(empty, rows)
    # E[sigmoid(-3 + slope * t)], t ~ Beta(c, c (K - 1)): the prior's marginal of one interest.
    t = np.random.default_rng(1).beta(CONCENTRATION, CONCENTRATION * (K - 1), 400_000)
    prior = np.mean(1 / (1 + np.exp(3.0 - SLOPE * t)))
    assert predicted.mean() == pytest.approx(prior, rel=0.02)


def test_posterior_learns_a_heavy_viewers_interests_from_every_category() -> None:
    """20,000 past impressions of known interests: the predictive approaches the truth, also in a
    category the viewer never saw (its interest is what the others leave)."""
    rng = np.random.default_rng(2)
    interest = np.array([0.5, 0.3, 0.2, 0.0])
    category = rng.integers(0, K - 1, 20_000)  # never category 3
    offset = rng.normal(-3.0, 0.5, 20_000)
    clicked = rng.random(20_000) < 1 / (1 + np.exp(-(offset + SLOPE * interest[category])))
    history = _terms(np.zeros(20_000), category, np.arange(20_000), offset, clicked)
    rows = _terms(np.zeros(K), np.arange(K), np.full(K, 20_000), np.full(K, -3.0))
    predicted = _posterior(history, rows)
    truth = 1 / (1 + np.exp(3.0 - SLOPE * interest))
    assert predicted == pytest.approx(truth, rel=0.15, abs=0.003)
    assert predicted[0] > predicted[1] > predicted[2] > predicted[3]


def test_posterior_sees_only_the_past_of_each_row() -> None:
    """A row's own label and what comes after it change nothing; an earlier same-day click does."""
    rows = _terms([0, 0], [1, 1], [10, 20], [-3.0, -3.0])
    past = _terms([0, 0], [1, 1], [1, 2], [-3.0, -3.0], [True, False])
    base = _posterior(past, rows)
    # The rows themselves and a later impression, added to the history: row 0 sees none of
    # them, row 1 only row 0's impression (t=10), as if the history stopped there.
    with_own_and_later = _terms(
        [0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [1, 2, 10, 20, 30], [-3.0] * 5, [1, 0, 1, 1, 1]
    )
    up_to_row_0 = _terms([0, 0, 0], [1, 1, 1], [1, 2, 10], [-3.0] * 3, [1, 0, 1])
    predicted = _posterior(with_own_and_later, rows)
    assert predicted[0] == base[0]
    assert np.array_equal(predicted, _posterior(up_to_row_0, rows))
    # A click between the two rows raises the second row's prediction only.
    between = _terms([0, 0, 0], [1, 1, 1], [1, 2, 15], [-3.0] * 3, [True, False, True])
    moved = _posterior(between, rows)
    assert moved[0] == base[0] and moved[1] > base[1]


def test_posterior_refuses_too_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oracle, "MAX_POSTERIOR_ROWS", 1)
    rows = _terms([0, 1], [0, 0], [0, 0], [-3.0, -3.0])
    with pytest.raises(ValueError, match="over MAX_POSTERIOR_ROWS"):
        _posterior(_terms([], [], [], [], []), rows)


def test_ctr_oracle_on_all_impressions_matches_the_clicks(
    default_build: dict, small_raw_dir: Path
) -> None:
    """Every impression of the small build: the generator's probability explains its clicks."""
    with duckdb.connect(str(default_build["db"]), read_only=True) as connection:
        rows = connection.sql(
            "select ad_id, user_id, placement, device, impressed_at, is_clicked "
            "from marts.fct_impression_features"
        ).df()
    manifest = oracle.read_raw_manifest(small_raw_dir)
    p = oracle.click_probability(
        rows, seed=manifest["seed"], scale=manifest["scale"], **oracle.launch_knobs(manifest)
    )
    y = rows["is_clicked"].astype(int).to_numpy()
    standard_error = metrics.calibration_standard_error(p)
    assert standard_error == pytest.approx(np.sqrt(np.sum(p * (1 - p))) / np.sum(p))
    assert abs(p.sum() / y.sum() - 1) < 4 * standard_error, (p.sum(), y.sum())
    assert metrics.scalar_metrics(y, p)["roc_auc"] > 0.75
    shuffled = np.random.default_rng(0).permutation(rows["user_id"].to_numpy())
    wrong = oracle.click_probability(
        rows.assign(user_id=shuffled), seed=manifest["seed"], scale=manifest["scale"]
    )
    # A wrong join (viewers shuffled) loses the interest term: much worse ranking.
    right_auc = metrics.scalar_metrics(y, p)["roc_auc"]
    assert metrics.scalar_metrics(y, wrong)["roc_auc"] < right_auc - 0.05


def test_oracles_refuse_raw_data_of_another_generator() -> None:
    manifest = {"generator_version": "1.3.0", "scale": 1.0, "seed": 42}
    assert "generator 1.3.0" in oracle.generator_mismatch(manifest)
    assert "--scale 1.0 --seed 42" in oracle.generator_mismatch(manifest)
    from warehouse_ml.generate import common

    assert (
        oracle.generator_mismatch({**manifest, "generator_version": common.GENERATOR_VERSION})
        is None
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
