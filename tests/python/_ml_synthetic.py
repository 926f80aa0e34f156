"""Synthetic training data with a known signal, shared by the ML library tests."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from warehouse_ml.training import FeatureSpec

FEATURES = FeatureSpec(numeric=("tenure_days", "spend_90d"), categorical=("segment", "hour"))


def synthetic_frame(n: int = 2_000, seed: int = 0, base_logit: float = -0.5) -> pd.DataFrame:
    """Rows with a logistic label driven by ``spend_90d`` and ``segment``.

    ``tenure_days`` is an integer column with some nulls, ``segment`` a string column with
    nulls, ``hour`` an integer categorical; ``weight`` is a positive sample weight.
    """
    rng = np.random.default_rng(seed)
    spend = rng.gamma(2.0, 50.0, n)
    segment = rng.choice(np.array(["consumer", "small_business", "enterprise"], dtype=object), n)
    segment[rng.random(n) < 0.05] = None
    tenure = pd.array(rng.integers(1, 700, n), dtype="Int64")
    tenure[rng.random(n) < 0.05] = pd.NA
    hour = rng.integers(0, 24, n)
    logit = base_logit - 0.02 * (spend - 100) + np.where(segment == "enterprise", 1.0, 0.0)
    label = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1, dtype=np.int64),
            "tenure_days": tenure,
            "spend_90d": spend,
            "segment": pd.array(segment, dtype="string"),
            "hour": hour,
            "is_churned": label,
            "weight": rng.uniform(0.5, 2.0, n),
        }
    )


# --- model specs and the frames they describe (rows of ml_model_specs) -----------------------

CHURN_NUMERIC = (
    "tenure_days",
    "recency_days",
    "transaction_count_30d",
    "total_amount_30d",
    "transaction_count_90d",
    "total_amount_90d",
)
CHURN_CATEGORICAL = ("segment", "region", "acquisition_channel")
CTR_NUMERIC = (
    "ad_previous_impressions_7d",
    "ad_previous_smoothed_click_through_rate_7d",
    "user_previous_click_through_rate",
    "is_new_category",
)
CTR_CATEGORICAL = ("ad_id", "placement", "device", "impression_hour")


def spec_row(model_name: str = "churn", **overrides: object) -> dict[str, object]:
    """A row of ml_model_specs as B2's SQL model writes it (JSON text for lists and objects)."""
    if model_name == "churn":
        row: dict[str, object] = {
            "model_name": "churn",
            "training_set": "trn_churn__cluster_sample",
            "label": "is_churned",
            "weight_column": "sample_weight",
            "key_columns": json.dumps(["customer_id", "observation_date"]),
            "numeric_features": json.dumps(list(CHURN_NUMERIC)),
            "categorical_features": json.dumps(list(CHURN_CATEGORICAL)),
            "algorithm": "hist_gradient_boosting",
            "params": json.dumps({"max_iter": 30}),
            "calibration": "none",
            "negative_downsampling_rate": None,
            "sampling_spec": json.dumps({"design": "cluster", "fraction": 0.5, "seed": 42}),
            "evaluation_sets": json.dumps(
                [
                    {
                        "name": "holdout",
                        "relation": "trn_churn__cluster_sample",
                        "split": "holdout",
                        "weight_column": "sample_weight",
                    },
                    {"name": "out_of_time", "relation": "ml_churn_evaluation_out_of_time"},
                ]
            ),
            "scoring_population": "ml_churn_scoring_population",
            "max_training_rows": 100_000,
            "promotion_metric": "roc_auc",
            "promotion_dataset": "out_of_time",
            "promotion_margin": 0.005,
        }
    else:
        row = {
            "model_name": "ctr",
            "training_set": "trn_ctr__recent_sample",
            "label": "is_clicked",
            "weight_column": None,
            "key_columns": json.dumps(["impression_id"]),
            "numeric_features": json.dumps(list(CTR_NUMERIC)),
            "categorical_features": json.dumps(list(CTR_CATEGORICAL)),
            "algorithm": "logistic_regression",
            "params": "{}",
            "calibration": "negative_downsampling",
            "negative_downsampling_rate": 0.2,
            "sampling_spec": json.dumps({"design": "time window", "negative_rate": 0.2}),
            "evaluation_sets": json.dumps(
                [{"name": "evaluation_day", "relation": "ml_ctr_evaluation_day"}]
            ),
            "scoring_population": "ml_ctr_scoring_population",
            "max_training_rows": 100_000,
            "promotion_metric": "normalized_entropy",
            "promotion_dataset": "evaluation_day",
            "promotion_margin": 0.005,
        }
    row.update(overrides)
    return row


def churn_frame(customers: int = 400, dates: int = 4, seed: int = 0) -> pd.DataFrame:
    """Customer x observation-date rows with the churn spec's columns and a known signal."""
    rng = np.random.default_rng(seed)
    n = customers * dates
    frame = pd.DataFrame(
        {
            "customer_id": np.repeat(np.arange(1, customers + 1), dates),
            "observation_date": np.tile(
                pd.date_range("2025-01-31", periods=dates, freq="ME").date, customers
            ),
        }
    )
    for column in CHURN_NUMERIC:
        frame[column] = rng.gamma(2.0, 10.0, n)
    frame["segment"] = rng.choice(["consumer", "small_business", "enterprise"], n)
    frame["region"] = rng.choice(["north", "south"], n)
    frame["acquisition_channel"] = rng.choice(["organic", "paid_search"], n)
    logit = 0.08 * (frame["recency_days"] - 20) - 0.5
    frame["is_churned"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame["split"] = np.where(frame["customer_id"] % 5 == 0, "holdout", "train")
    frame["sample_weight"] = 2.0
    return frame


def impression_frame(n: int = 20_000, seed: int = 1) -> pd.DataFrame:
    """Impressions over ten days with the CTR spec's columns; clicks driven by CTR and placement."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "impression_id": np.arange(n, dtype=np.int64),
            "impression_date": pd.Timestamp("2025-12-01")
            + pd.to_timedelta(rng.integers(0, 10, n), unit="D"),
            "ad_id": rng.integers(1, 30, n),
            "placement": rng.choice(["feed", "search", "video"], n),
            "device": rng.choice(["mobile", "desktop"], n),
            "impression_hour": rng.integers(0, 24, n),
        }
    )
    frame["impression_date"] = pd.to_datetime(frame["impression_date"]).dt.date
    for column in CTR_NUMERIC:
        frame[column] = rng.random(n)
    frame["is_new_category"] = rng.random(n) < 0.1
    logit = -3.5 + 2.0 * frame["ad_previous_smoothed_click_through_rate_7d"]
    logit += np.where(frame["placement"] == "search", 1.0, 0.0)
    frame["is_clicked"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    return frame
