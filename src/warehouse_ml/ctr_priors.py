"""Beta priors for click-through rates, fitted per placement by the method of moments.

A trailing 7-day CTR of an ad with 12 impressions is mostly noise. The warehouse smooths it
towards its placement's typical CTR with a Beta(alpha, beta) prior::

    smoothed_ctr = (clicks + alpha) / (impressions + alpha + beta)

The prior is fitted on the ads of one placement: each ad's observed CTR ``p_i = c_i / n_i``
scatters around the placement mean for two reasons, real differences between ads (what the
prior describes) and binomial noise from finite ``n_i``. The noise part is removed before the
moments are matched::

    m        = mean(p_i)
    var_true = var(p_i) - mean(p_i * (1 - p_i) / n_i)
    alpha + beta = m * (1 - m) / var_true - 1
    alpha = m * (alpha + beta),   beta = (1 - m) * (alpha + beta)

Only ads with at least ``min_impressions`` impressions take part. When the corrected variance
is not positive (the ads look no more different than noise explains) or not below
``m * (1 - m)``, no Beta distribution has these moments and the fit falls back to a weak prior
of strength :data:`FALLBACK_PRIOR_STRENGTH` pseudo-impressions centred on the pooled CTR.

This module imports numpy and pandas only: the dbt Python model ``ctr_placement_priors`` runs it
in every build of the CTR chain, and scikit-learn's import alone would take longer than the fit.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

log = logging.getLogger(__name__)

MAX_AD_PLACEMENT_ROWS = 1_000_000
"""Most ad x placement rows :func:`fit_placement_priors` is given (collected with
:func:`warehouse_ml.engine.collect`); one row per ad and placement stays far below it."""

FALLBACK_PRIOR_STRENGTH = 10.0
"""alpha + beta of the fallback prior: worth 10 impressions, a tenth of the default
``ctr_prior_min_impressions`` (100), so one ad's own data outweigh it after a few days."""

MIN_ADS = 3
"""Fewest qualifying ads a prior is fitted on (a variance needs at least two; three is the
least that is not a coin toss)."""

PRIOR_COLUMNS = [
    "placement",
    "prior_alpha",
    "prior_beta",
    "prior_mean",
    "ads_used",
    "is_fallback_prior",
]
"""Columns returned by :func:`fit_placement_priors`, in order."""


class BetaPriorFit(NamedTuple):
    """A fitted Beta prior and how it was obtained."""

    alpha: float
    beta: float
    ads_used: int
    is_fallback: bool


def _validated_counts(clicks: ArrayLike, impressions: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return clicks and impressions as float arrays after checking they are valid counts."""
    clicks_arr = np.asarray(clicks, dtype=float)
    impressions_arr = np.asarray(impressions, dtype=float)
    if clicks_arr.ndim != 1 or clicks_arr.shape != impressions_arr.shape:
        raise ValueError(
            "clicks and impressions must be one-dimensional and of the same length, got shapes "
            f"{clicks_arr.shape} and {impressions_arr.shape}"
        )
    if not (np.all(np.isfinite(clicks_arr)) and np.all(np.isfinite(impressions_arr))):
        raise ValueError("clicks and impressions must be finite (no NaN or inf)")
    if np.any(clicks_arr < 0) or np.any(clicks_arr > impressions_arr):
        raise ValueError("every ad needs 0 <= clicks <= impressions")
    return clicks_arr, impressions_arr


def fit_beta_prior_details(
    clicks: ArrayLike,
    impressions: ArrayLike,
    min_impressions: int,
    *,
    min_ads: int = MIN_ADS,
    fallback_strength: float = FALLBACK_PRIOR_STRENGTH,
) -> BetaPriorFit:
    """Fit a Beta(alpha, beta) prior to ads' CTRs by the method of moments.

    The observed variance of the ads' CTRs is corrected for binomial noise,
    ``var_true = var_obs - mean(p * (1 - p) / n)``, before the moments are matched. If
    ``var_true <= 0`` (or too large for any Beta distribution) a weak prior worth
    ``fallback_strength`` impressions, centred on the pooled CTR, is returned instead, and the
    result says so (``is_fallback``).

    Parameters
    ----------
    clicks, impressions : array-like of shape (n_ads,)
        Total clicks and impressions of each ad.
    min_impressions : int
        Ads with fewer impressions are ignored (their CTR is too noisy to inform the prior).
    min_ads : int, default MIN_ADS
        Fewest ads, after the ``min_impressions`` filter, that the fit accepts.
    fallback_strength : float, default FALLBACK_PRIOR_STRENGTH
        alpha + beta of the weak prior used when the moments admit no Beta distribution.

    Returns
    -------
    BetaPriorFit
        ``alpha``, ``beta``, ``ads_used`` (ads that passed the filter) and ``is_fallback``.

    Raises
    ------
    ValueError
        If the counts are invalid, or fewer than ``min_ads`` ads have ``min_impressions``.

    Examples
    --------
    >>> fit = fit_beta_prior_details([1, 5, 10, 3], [100, 100, 100, 100], min_impressions=50)
    >>> round(fit.alpha / (fit.alpha + fit.beta), 4), fit.ads_used, fit.is_fallback
    (0.0475, 4, False)
    """
    if min_ads < 2:
        raise ValueError(f"min_ads must be at least 2 to estimate a variance, got {min_ads}")
    if fallback_strength <= 0:
        raise ValueError(f"fallback_strength must be positive, got {fallback_strength}")
    clicks_arr, impressions_arr = _validated_counts(clicks, impressions)
    used = impressions_arr >= max(min_impressions, 1)
    ads_used = int(used.sum())
    if ads_used < min_ads:
        raise ValueError(
            f"only {ads_used} ads have at least {min_impressions} impressions; "
            f"the method of moments needs at least {min_ads}"
        )
    c, n = clicks_arr[used], impressions_arr[used]
    rates = c / n
    mean = float(rates.mean())
    observed_variance = float(rates.var(ddof=1))
    binomial_noise = float(np.mean(rates * (1.0 - rates) / n))
    true_variance = observed_variance - binomial_noise

    if 0.0 < mean < 1.0 and 0.0 < true_variance < mean * (1.0 - mean):
        strength = mean * (1.0 - mean) / true_variance - 1.0
        return BetaPriorFit(mean * strength, (1.0 - mean) * strength, ads_used, False)

    # Weak prior centred on the pooled CTR; the +0.5 / +1 (Jeffreys) keeps it strictly inside
    # (0, 1) even for a placement without a single click, so alpha and beta stay positive.
    pooled = (c.sum() + 0.5) / (n.sum() + 1.0)
    return BetaPriorFit(
        float(pooled * fallback_strength),
        float((1.0 - pooled) * fallback_strength),
        ads_used,
        True,
    )


def fit_placement_priors(
    frame: pd.DataFrame,
    min_impressions: int = 100,
    *,
    min_ads: int = MIN_ADS,
    fallback_strength: float = FALLBACK_PRIOR_STRENGTH,
    empty: bool = False,
) -> pd.DataFrame:
    """Fit one Beta prior per placement from per ad x placement totals.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per ad and placement with columns ``placement``, ``clicks`` and
        ``impressions`` (others are ignored).
    min_impressions : int, default 100
        Ads with fewer impressions in a placement do not inform that placement's prior.
    min_ads : int, default MIN_ADS
        Fewest qualifying ads per placement.
    fallback_strength : float, default FALLBACK_PRIOR_STRENGTH
        alpha + beta of the fallback prior.
    empty : bool, default False
        ``dbt build --empty`` (the model's ``dbt.is_empty``): return the columns without rows,
        whatever ``frame`` holds. Only then is an empty result allowed.

    Returns
    -------
    pandas.DataFrame
        One row per placement, sorted by placement, with the columns in
        :data:`PRIOR_COLUMNS`: ``prior_mean = alpha / (alpha + beta)``, ``ads_used`` the
        number of ads that informed the fit, ``is_fallback_prior`` whether the weak
        fallback prior was used.

    Raises
    ------
    ValueError
        If columns are missing, the frame is empty (and ``empty`` is false), or a placement
        has too few qualifying ads (the message names the placement).
    """
    missing = {"placement", "clicks", "impressions"} - set(frame.columns)
    if missing:
        raise ValueError(f"fit_placement_priors needs columns {sorted(missing)}")
    if empty:
        return _typed_priors([])
    if frame.empty:
        raise ValueError("fit_placement_priors got no rows: there is nothing to fit a prior on")
    if frame["placement"].isna().any():
        raise ValueError("fit_placement_priors got rows without a placement")

    # Engines return rows in any order, and floating-point sums depend on it: put the rows in
    # one order first, so DuckDB and Spark fit bit-identical priors (and smoothed CTRs).
    order = ["placement", *(c for c in ("ad_id",) if c in frame.columns), "impressions", "clicks"]
    frame = frame.sort_values(order, kind="stable")
    rows = []
    for placement, group in frame.groupby("placement", sort=True):
        try:
            fit = fit_beta_prior_details(
                group["clicks"].to_numpy(),
                group["impressions"].to_numpy(),
                min_impressions,
                min_ads=min_ads,
                fallback_strength=fallback_strength,
            )
        except ValueError as error:
            raise ValueError(
                f"cannot fit the CTR prior of placement {placement!r}: {error}"
            ) from error
        rows.append(
            (
                str(placement),
                fit.alpha,
                fit.beta,
                fit.alpha / (fit.alpha + fit.beta),
                fit.ads_used,
                fit.is_fallback,
            )
        )
    log.info(
        "ctr_placement_priors: %d placements fitted on %d ad x placement rows (%d fallback)",
        len(rows),
        len(frame),
        sum(row[-1] for row in rows),
    )
    return _typed_priors(rows)


def _typed_priors(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """The rows as a frame of :data:`PRIOR_COLUMNS` with their types (an empty one too)."""
    priors = pd.DataFrame(rows, columns=PRIOR_COLUMNS)
    return priors.astype(
        {
            "placement": "str",
            "prior_alpha": "float64",
            "prior_beta": "float64",
            "prior_mean": "float64",
            "ads_used": "int64",
            "is_fallback_prior": "bool",
        }
    )
