"""warehouse_ml.metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from warehouse_ml import metrics

Y = [1, 0, 1, 0]
P = [0.9, 0.1, 0.4, 0.6]


def test_scalar_metrics_by_hand():
    result = metrics.scalar_metrics(Y, P)
    # Pairs (positive, negative): (.9,.1) (.9,.6) (.4,.1) ranked right, (.4,.6) wrong: 3/4.
    assert result["roc_auc"] == pytest.approx(0.75)
    # Ranked .9(1) .6(0) .4(1) .1(0): precision 1 at recall .5, 2/3 at recall 1.
    assert result["pr_auc"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    log_loss = -(math.log(0.9) + math.log(0.4)) / 2
    assert result["log_loss"] == pytest.approx(log_loss)
    assert result["brier"] == pytest.approx((0.01 + 0.01 + 0.36 + 0.36) / 4)
    assert result["normalized_entropy"] == pytest.approx(log_loss / math.log(2))
    assert result["calibration"] == pytest.approx(1.0)
    assert result["observed_rate"] == 0.5
    assert result["row_count"] == 4


def test_calibration_standard_error_by_hand():
    # sum p (1 - p) = .09 + .09 + .24 + .24; sum p = 2.
    assert metrics.scalar_metrics(Y, P)["calibration_standard_error"] == pytest.approx(
        math.sqrt(0.66) / 2.0
    )
    # A weight scales its row's variance by its square: 4 * .09 + .09 + .24 + .24 over 2.9.
    weighted = metrics.scalar_metrics(Y, P, sample_weight=[2, 1, 1, 1])
    assert weighted["calibration_standard_error"] == pytest.approx(math.sqrt(0.93) / 2.9)


def test_calibration_standard_error_is_the_scatter_of_a_true_models_calibration():
    """Labels drawn from the scores: their calibration scatters around 1 by the standard error."""
    rng = np.random.default_rng(7)
    p = rng.uniform(0.005, 0.06, 20_000)  # about 650 positives, like a CTR evaluation day
    expected = metrics.calibration_standard_error(p)
    calibrations = [p.sum() / (rng.random(p.size) < p).sum() for _ in range(2_000)]
    assert expected == pytest.approx(0.039, abs=0.002)
    assert np.std(calibrations) == pytest.approx(expected, rel=0.1)


def test_weights_equal_duplicated_rows():
    weighted = metrics.scalar_metrics(Y, P, sample_weight=[2, 1, 1, 1])
    repeated = metrics.scalar_metrics([*Y, 1], [*P, 0.9])
    for name in ("roc_auc", "pr_auc", "log_loss", "brier", "normalized_entropy", "calibration"):
        assert weighted[name] == pytest.approx(repeated[name]), name
    assert weighted["weight_sum"] == 5.0


def test_calibration_is_mean_predicted_over_observed():
    result = metrics.scalar_metrics([1, 0, 0, 0], [0.5, 0.5, 0.5, 0.5])
    assert result["calibration"] == pytest.approx(0.5 / 0.25)


def test_single_class_gives_nan_auc_not_an_error():
    result = metrics.scalar_metrics([0, 0], [0.1, 0.2])
    assert math.isnan(result["roc_auc"]) and math.isnan(result["calibration"])
    assert result["brier"] == pytest.approx((0.01 + 0.04) / 2)


def test_reliability_bins_by_hand():
    rows = metrics.reliability_bins([0, 1, 0, 1], [0.05, 0.15, 0.12, 0.95])
    by_key = {(metric, b): value for metric, b, value in rows}
    assert by_key[("reliability_mean_predicted", 1)] == pytest.approx(0.05)
    assert by_key[("reliability_observed_rate", 1)] == 0.0
    assert by_key[("reliability_mean_predicted", 2)] == pytest.approx(0.135)
    assert by_key[("reliability_observed_rate", 2)] == pytest.approx(0.5)
    assert by_key[("reliability_weight", 2)] == 2.0
    assert by_key[("reliability_observed_rate", 10)] == 1.0
    assert {b for _, b, _ in rows} == {1, 2, 10}  # empty bins are left out


def test_deciles_split_by_rank_and_weight():
    scores = np.linspace(0.95, 0.05, 10)
    np.testing.assert_array_equal(metrics.deciles(scores), np.arange(1, 11))
    np.testing.assert_array_equal(metrics.deciles(scores[::-1]), np.arange(10, 0, -1))
    # One row carrying half the weight spans deciles 1-5: its midpoint falls in decile 3.
    weights = np.array([9.0] + [1.0] * 9)
    assert metrics.deciles(scores, weights)[0] == 3


def test_lift_and_capture_by_hand():
    scores = np.linspace(0.95, 0.05, 10)
    labels = [1, 1, 0, 1, 0, 0, 0, 0, 0, 0]
    rows = {(m, b): v for m, b, v in metrics.lift_capture(labels, scores)}
    assert rows[("lift", 1)] == pytest.approx(1 / 0.3)
    assert rows[("lift", 3)] == 0.0
    assert rows[("capture", 2)] == pytest.approx(1 / 3)
    assert rows[("cumulative_capture", 2)] == pytest.approx(2 / 3)
    assert rows[("cumulative_capture", 4)] == pytest.approx(1.0)
    assert rows[("cumulative_capture", 10)] == pytest.approx(1.0)


def test_evaluate_is_long_format():
    rows = metrics.evaluate(Y, P, model_name="churn", model_version="abc", dataset="holdout")
    table = metrics.metrics_table(rows)
    assert table.schema == metrics.METRICS_SCHEMA
    scalar = [r for r in rows if r["bin"] is None]
    assert {r["metric"] for r in scalar} >= {"roc_auc", "log_loss", "normalized_entropy"}
    assert all(r["model_name"] == "churn" and r["dataset"] == "holdout" for r in rows)
    lifts = [r for r in rows if r["metric"] == "lift"]
    assert [r["bin"] for r in lifts] == list(range(1, 11))
    [auc] = [r["value"] for r in scalar if r["metric"] == "roc_auc"]
    assert auc == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("y", "p", "message"),
    [
        ([], [], "empty"),
        ([1, 0], [0.5, 1.5], r"probabilities in \[0, 1\]"),
        ([1, 2], [0.5, 0.5], "0/1"),
        ([1, 0], [0.5], "same length"),
    ],
)
def test_bad_inputs_are_refused(y, p, message):
    with pytest.raises(ValueError, match=message):
        metrics.scalar_metrics(y, p)
