"""warehouse_ml.training: pipelines from feature lists, weighted deterministic fits, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from _ml_synthetic import FEATURES, synthetic_frame
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from warehouse_ml import training
from warehouse_ml.errors import (
    EmptyTrainingSetError,
    FeatureTypeError,
    InvalidLabelError,
    MissingFeatureError,
    SingleClassLabelError,
)


def fit(frame: pd.DataFrame, algorithm: str = "logistic_regression", **kwargs):
    options = {"features": FEATURES, "label": "is_churned", "random_state": 7}
    options.update(kwargs)
    return training.fit(frame, algorithm=algorithm, training_set="trn_test", **options)


def test_feature_spec_rejects_a_column_declared_twice():
    with pytest.raises(ValueError, match=r"\['x'\] are declared both numeric and categorical"):
        training.FeatureSpec(numeric=["x"], categorical=["x"])


def test_feature_spec_records_round_trip():
    records = FEATURES.to_records(integer_categoricals=["hour"])
    assert records[0] == {"name": "tenure_days", "type": "numeric", "dtype": "double"}
    assert records[2] == {"name": "segment", "type": "categorical", "dtype": "string"}
    assert records[3] == {"name": "hour", "type": "categorical", "dtype": "bigint"}
    assert training.FeatureSpec.from_records(records) == FEATURES


def test_prepare_features_normalises_values():
    frame = pd.DataFrame(
        {
            "tenure_days": pd.array([5, None], dtype="Int64"),
            "spend_90d": [1.5, None],
            "segment": pd.array(["enterprise", None], dtype="string"),
            "hour": [7, 23],
        }
    )
    prepared = training.prepare_features(frame, FEATURES)
    assert prepared["tenure_days"].tolist()[0] == 5.0
    assert np.isnan(prepared["tenure_days"].tolist()[1])
    assert np.isnan(prepared["spend_90d"].tolist()[1])
    assert prepared["segment"].tolist() == ["enterprise", training.MISSING_CATEGORY]
    assert prepared["hour"].tolist() == ["7", "23"]


@pytest.mark.parametrize("algorithm", training.ALGORITHMS)
def test_fit_learns_the_signal(algorithm):
    train, test = synthetic_frame(3_000, seed=1), synthetic_frame(3_000, seed=2)
    trained = fit(train, algorithm, weight="weight")
    assert trained.row_count == 3_000
    assert trained.positive_count == int(train["is_churned"].sum())
    assert trained.weight_sum == pytest.approx(train["weight"].sum())
    assert trained.pipeline.named_steps["model"].random_state == 7
    assert trained.integer_categoricals == ("hour",)
    auc = roc_auc_score(test["is_churned"], trained.predict_proba(test))
    assert auc > 0.72  # the Bayes AUC of this signal is about 0.78


def test_fit_accepts_arrow_tables():
    frame = synthetic_frame(500)
    from_arrow = fit(pa.Table.from_pandas(frame, preserve_index=False))
    from_pandas = fit(frame)
    np.testing.assert_allclose(from_arrow.predict_proba(frame), from_pandas.predict_proba(frame))


@pytest.mark.parametrize("algorithm", training.ALGORITHMS)
def test_fit_does_not_depend_on_row_order(algorithm):
    frame = synthetic_frame(1_000, seed=3)
    shuffled = frame.sample(frac=1.0, random_state=11)
    first, second = fit(frame, algorithm), fit(shuffled, algorithm)
    assert first.data_fingerprint == second.data_fingerprint
    np.testing.assert_array_equal(first.predict_proba(frame), second.predict_proba(frame))


@pytest.mark.parametrize("algorithm", training.ALGORITHMS)
def test_fit_does_not_depend_on_the_thread_count(algorithm):
    """OpenMP (histogram gradient boosting) and BLAS (logistic regression) threads while fitting."""
    frame = synthetic_frame(2_000, seed=5)
    fits = [fit(frame, algorithm, n_threads=n_threads) for n_threads in (1, 2)]
    assert fits[0].data_fingerprint == fits[1].data_fingerprint
    np.testing.assert_array_equal(fits[0].predict_proba(frame), fits[1].predict_proba(frame))


def test_fingerprint_changes_with_the_data():
    frame = synthetic_frame(500)
    changed = frame.copy()
    changed.loc[0, "spend_90d"] += 1.0
    assert fit(frame).data_fingerprint != fit(changed).data_fingerprint


def test_integer_weight_equals_duplicated_rows():
    frame = synthetic_frame(800, seed=4).assign(weight=1.0)
    frame.loc[:99, "weight"] = 2.0
    duplicated = pd.concat([frame, frame.iloc[:100]], ignore_index=True).assign(weight=1.0)
    weighted, repeated = fit(frame, weight="weight"), fit(duplicated)
    assert isinstance(weighted.pipeline.named_steps["model"], LogisticRegression)
    # The scaler statistics are unweighted, so the two fits agree closely but not exactly.
    p_weighted = weighted.predict_proba(frame)
    np.testing.assert_allclose(p_weighted, repeated.predict_proba(frame), atol=2e-2)
    unweighted = fit(frame.assign(weight=1.0), weight="weight").predict_proba(frame)
    p_repeated = repeated.predict_proba(frame)
    assert np.abs(p_weighted - p_repeated).max() < np.abs(unweighted - p_repeated).max() / 5


def test_weights_are_rescaled_to_mean_one():
    weights = np.array([1.0, 1.0, 40.0, 40.0])
    normalized = training.normalized_weights(weights)
    np.testing.assert_allclose(normalized, [1 / 20.5, 1 / 20.5, 40 / 20.5, 40 / 20.5])
    assert normalized.mean() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="not all zero"):
        training.normalized_weights(np.zeros(3))


def test_inverse_probability_weights_do_not_switch_off_the_penalty():
    # Weights 40 times larger (1 / p of a 2.5% sample instead of 1) fit the same model: the
    # logistic regression's penalty is weighed against a loss of the real row count's scale.
    frame = synthetic_frame(600, seed=5)
    small = fit(frame, weight="weight")
    large = fit(frame.assign(weight=frame["weight"] * 40.0), weight="weight")
    np.testing.assert_allclose(
        large.pipeline.named_steps["model"].coef_,
        small.pipeline.named_steps["model"].coef_,
        rtol=1e-4,
        atol=1e-6,
    )
    assert large.weight_sum == pytest.approx(40.0 * small.weight_sum)  # the raw sum is recorded
    # Without the rescaling the same weights would fit a visibly weaker penalty.
    unscaled = training.build_pipeline(FEATURES, "logistic_regression", random_state=0)
    X = training.prepare_features(frame, FEATURES)
    unscaled.fit(X, frame["is_churned"].astype(int), model__sample_weight=frame["weight"] * 40.0)
    assert not np.allclose(
        unscaled.named_steps["model"].coef_, small.pipeline.named_steps["model"].coef_, rtol=1e-2
    )


def test_empty_training_set_is_refused():
    with pytest.raises(EmptyTrainingSetError, match="training set 'trn_test' has no rows"):
        fit(synthetic_frame(10).iloc[:0])


def test_single_class_label_is_refused():
    frame = synthetic_frame(50).assign(is_churned=False)
    with pytest.raises(SingleClassLabelError, match=r"'is_churned' .* single value 0 in all 50"):
        fit(frame)


def test_missing_feature_names_the_column():
    with pytest.raises(MissingFeatureError, match=r"\['segment'\] not found"):
        fit(synthetic_frame(50).drop(columns="segment"))


def test_missing_label_and_null_label_are_refused():
    with pytest.raises(InvalidLabelError, match="label column 'is_churned' not found"):
        fit(synthetic_frame(50).drop(columns="is_churned"))
    frame = synthetic_frame(50)
    frame["is_churned"] = frame["is_churned"].astype("boolean")
    frame.loc[3, "is_churned"] = pd.NA
    with pytest.raises(InvalidLabelError, match="1 null value"):
        fit(frame)


def test_non_binary_label_is_refused():
    frame = synthetic_frame(50).assign(is_churned=lambda f: np.arange(len(f)) % 3)
    with pytest.raises(InvalidLabelError, match="values other than 0/1"):
        fit(frame)


def test_float_categorical_is_refused():
    frame = synthetic_frame(50).assign(hour=lambda f: f["hour"].astype(float))
    with pytest.raises(FeatureTypeError, match="categorical feature 'hour' has type float64"):
        fit(frame)


def test_text_in_a_numeric_feature_is_refused():
    frame = synthetic_frame(50).assign(spend_90d="12.5")
    with pytest.raises(FeatureTypeError, match="numeric feature 'spend_90d'"):
        fit(frame)


def test_negative_weights_are_refused():
    frame = synthetic_frame(50)
    frame.loc[0, "weight"] = -1.0
    with pytest.raises(ValueError, match="weight column 'weight' .* negative"):
        fit(frame, weight="weight")


def test_unknown_algorithm_is_refused():
    with pytest.raises(ValueError, match="algorithm 'xgboost' is not supported"):
        training.build_pipeline(FEATURES, "xgboost")


def test_recalibration_by_hand():
    # p = 0.5, w = 0.1: 0.5 / (0.5 + 0.5 / 0.1) = 1 / 11
    np.testing.assert_allclose(
        training.recalibrate_downsampled(np.array([0.5, 0.0, 1.0, 0.2]), 0.1),
        [1 / 11, 0.0, 1.0, 0.2 / (0.2 + 0.8 / 0.1)],
    )
    np.testing.assert_allclose(training.recalibrate_downsampled([0.3], 1.0), [0.3])
    with pytest.raises(ValueError, match=r"must be in \(0, 1\]"):
        training.recalibrate_downsampled([0.3], 0.0)


def test_recalibration_restores_the_base_rate_after_negative_downsampling():
    population = synthetic_frame(40_000, seed=5, base_logit=-3.0)
    rng = np.random.default_rng(6)
    rate = 0.1
    keep = population["is_churned"].to_numpy() | (rng.random(len(population)) < rate)
    trained = fit(population[keep])  # fitted without weights, as in He et al. (2014)
    raw = trained.predict_proba(population)
    recalibrated = training.recalibrate_downsampled(raw, rate)
    observed = population["is_churned"].mean()
    assert raw.mean() > 2 * observed
    assert recalibrated.mean() == pytest.approx(observed, rel=0.05)
