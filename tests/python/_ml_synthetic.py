"""Synthetic training data with a known signal, shared by the ML library tests."""

from __future__ import annotations

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
