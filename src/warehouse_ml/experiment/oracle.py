"""The churn ceiling: the generator's own probability of no purchase in the label horizon.

The raw data's customers are regenerated from the manifest's seed and scale
(:func:`warehouse_ml.generate.shop.make_customers`, deterministic), so every latent the
generator drew is known: purchase rate, churn time, pre-churn decline and reactivation. Given
them, purchases are a Poisson process (:func:`warehouse_ml.generate.shop.transactions_chunk`):
the intensity is ``rate * keep(u)`` before churn (``keep`` is the linear decline to
``DECLINE_FLOOR`` over ``decline_days``), ``REACTIVATED_RATE_FACTOR * rate`` after a
reactivation, zero otherwise, and a drawn row is lost to staging with the generator's
imperfection rates. The label ``is_churned`` of (customer, observation date ``t``) is "no valid
transaction in ``(t, t + horizon]``", so its probability is ``exp(-Lambda)``, ``Lambda`` the
integral of the intensity over the horizon. No model that sees only the data can do better.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from warehouse_ml.generate import common as c
from warehouse_ml.generate import shop
from warehouse_ml.generate.writer import MANIFEST


def read_raw_manifest(raw: Path) -> dict | None:
    """The raw data's manifest (``scale``, ``seed``, ``generator_version``), or None if absent."""
    path = Path(raw) / MANIFEST
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def _decline_integral(a: np.ndarray, b: np.ndarray, churn: np.ndarray, decline: np.ndarray):
    """Integral over ``[a, b]`` (days, ``b <= churn``) of the keep probability before churn."""
    span = np.clip(b - a, 0.0, None)
    decline_start = churn - decline
    flat = np.clip(np.minimum(b, decline_start) - a, 0.0, None)
    lo = np.maximum(a, decline_start)
    sloped_span = np.clip(b - lo, 0.0, None)
    slope = (1.0 - shop.DECLINE_FLOOR) / decline
    sloped = (
        shop.DECLINE_FLOOR * sloped_span
        + slope * ((churn - lo) ** 2 - (churn - (lo + sloped_span)) ** 2) / 2.0
    )
    return np.where(span > 0, flat + np.where(sloped_span > 0, sloped, 0.0), 0.0)


def churn_probability(
    rows: pd.DataFrame, *, seed: int, scale: float, horizon_days: int
) -> np.ndarray:
    """``P(is_churned)`` of each ``(customer_id, observation_date)`` row, from the latents.

    Parameters
    ----------
    rows : pandas.DataFrame
        Columns ``customer_id`` and ``observation_date`` (dates).
    seed, scale : int, float
        The raw data's (its manifest).
    horizon_days : int
        The label horizon (``churn_horizon_days``).
    """
    customers = shop.make_customers(seed, scale)
    index = pd.Index(customers.customer_id).get_indexer(rows["customer_id"].to_numpy())
    if (index < 0).any():
        raise ValueError(
            "churn ceiling: customer ids of the warehouse are not the generator's (regenerated "
            f"with seed {seed}, scale {scale}); pass the raw data the warehouse was built from"
        )
    day = c.US_PER_DAY
    observation = pd.to_datetime(rows["observation_date"]).to_numpy("datetime64[us]")
    # The features include day t, the horizon is days t+1 .. t+H: (end of t, end of t+H].
    start = (observation.astype(np.int64) + day) / day
    end = np.minimum(start + horizon_days, c.TRANSACTIONS_END / day)
    rate = customers.rate_per_day[index]
    churn = customers.churn_at[index] / day
    decline = customers.decline_days[index]
    history_start = np.maximum(customers.signed_up_at[index], c.TRANSACTIONS_START) / day
    a = np.maximum(start, history_start)
    before_churn = _decline_integral(a, np.minimum(end, churn), churn, decline)
    back_start = np.maximum(customers.reactivated_at[index] / day, a)
    after_reactivation = shop.REACTIVATED_RATE_FACTOR * np.clip(end - back_start, 0.0, None)
    valid = 1.0 - c.UNKNOWN_CUSTOMER_RATE - c.NEGATIVE_AMOUNT_RATE - c.NULL_AMOUNT_RATE
    expected = rate * valid * (before_churn + after_reactivation)
    return np.clip(np.exp(-expected), 1e-9, 1.0 - 1e-9)
