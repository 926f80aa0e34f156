"""The ceilings: the generator's own churn and click probabilities of the warehouse's rows.

**Churn.** The generator's own probability of no purchase in the label horizon.

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

**CTR.** The ads and the viewers are regenerated the same way
(:func:`warehouse_ml.generate.ads.make_ads`, :func:`~warehouse_ml.generate.ads.make_users`), so each
ad's quality and each viewer's interest in every category are known; an impression's own columns
(ad, placement, device, the hour and instant of ``impressed_at``, viewer) are in the warehouse, and
:func:`warehouse_ml.generate.ads.click_logit` of them is the click probability the generator drew
its click with. Impressions are not regenerated (no random stream is replayed): the join is by the
warehouse's own ``ad_id``, ``user_id``, ``placement``, ``device`` and ``impressed_at``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from warehouse_ml.generate import ads as ads_mod
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


def generator_mismatch(manifest: dict) -> str | None:
    """Why the oracles cannot read this raw data (another generator version), or None.

    The oracles recompute the latents and probabilities with this package's generator; raw data
    of another version (e.g. 1.3.0, before the launch ramp) drew them differently.
    """
    version = manifest.get("generator_version")
    if version == c.GENERATOR_VERSION:
        return None
    return (
        f"the raw data were written by generator {version}, the oracles recompute generator "
        f"{c.GENERATOR_VERSION}; regenerate them (warehouse-ml generate --scale "
        f"{manifest.get('scale')} --seed {manifest.get('seed')}) and rebuild"
    )


def launch_knobs(manifest: dict) -> dict:
    """The launch knobs the raw data was generated with, from its manifest.

    ``new_category`` (absent: true), ``new_category_share`` and ``new_category_effect`` (absent:
    the generator's defaults, what a manifest without them was written with).
    """
    return {
        "new_category": bool(manifest.get("new_category", True)),
        "share": float(manifest.get("new_category_share", ads_mod.NEW_CATEGORY_SHARE)),
        "effect": float(manifest.get("new_category_effect", ads_mod.NEW_CATEGORY_EFFECT)),
    }


def click_probability(
    rows: pd.DataFrame,
    *,
    seed: int,
    scale: float,
    new_category: bool = True,
    share: float = ads_mod.NEW_CATEGORY_SHARE,
    effect: float = ads_mod.NEW_CATEGORY_EFFECT,
) -> np.ndarray:
    """The generator's click probability of each impression row.

    Parameters
    ----------
    rows : pandas.DataFrame
        Columns ``ad_id``, ``user_id``, ``placement``, ``device`` (the staged names) and
        ``impressed_at`` (UTC timestamps), e.g. ``ml_ctr_evaluation_day``.
    seed, scale : int, float
        The raw data's (its manifest).
    new_category, share, effect
        The launch knobs (:func:`launch_knobs` of the manifest).

    Raises
    ------
    ValueError
        If an ad, viewer, placement or device is not the generator's (another raw data set).
    """
    ads = ads_mod.make_ads(seed, scale, new_category, share, effect)
    users = ads_mod.make_users(seed, scale)
    ad = pd.Index(ads.ad_id).get_indexer(rows["ad_id"].to_numpy(dtype=np.int64))
    user = rows["user_id"].to_numpy(dtype=np.int64) - 1
    placement = pd.Index(ads_mod.PLACEMENTS).get_indexer(rows["placement"].astype(str))
    device = pd.Index(ads_mod.DEVICES).get_indexer(rows["device"].astype(str))
    if (ad < 0).any() or (user < 0).any() or (user >= len(users.device)).any():
        raise ValueError(
            "CTR ceiling: ad or user ids of the warehouse are not the generator's (regenerated "
            f"with seed {seed}, scale {scale}); pass the raw data the warehouse was built from"
        )
    if (placement < 0).any() or (device < 0).any():
        raise ValueError(
            f"CTR ceiling: placements or devices other than {ads_mod.PLACEMENTS} / "
            f"{ads_mod.DEVICES}; pass the raw data the warehouse was built from"
        )
    at = pd.to_datetime(rows["impressed_at"]).to_numpy("datetime64[us]").astype(np.int64)
    hour = (at // c.US_PER_HOUR) % 24
    interest = users.interest[user, ads.category[ad]].astype(np.float64)
    logit = ads_mod.click_logit(ads, ad, placement, device, hour, interest, at)
    return 1.0 / (1.0 + np.exp(-logit))
