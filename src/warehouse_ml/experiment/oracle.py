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

**CTR, point in time.** The oracle knows each viewer's interests, which no model can see. The best
a model that sees only the past can do is the Bayes posterior predictive
(:func:`point_in_time_click_probability`): every term of the generator's click logit is given
exactly (ad quality, placement, device, hour, the launch) and so is the interests' Dirichlet prior;
only the viewer's interest vector is unknown, inferred from the viewer's own clicks and non-clicks
before the impression, in every category (the interests sum to 1, so clicks elsewhere say
something too). Knowing more than any model does, it bounds from below (in expectation) the
normalized entropy a point-in-time model can reach on the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


def _impression_index(
    rows: pd.DataFrame, ads: ads_mod.Ads, users: ads_mod.Users, *, seed: int, scale: float
) -> dict[str, np.ndarray]:
    """The generator's indices of each row (ad, viewer, placement, device), its hour and instant."""
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
    return {
        "ad": ad,
        "user": user,
        "placement": placement,
        "device": device,
        "hour": hour,
        "at": at,
    }


def _click_logit(ads: ads_mod.Ads, index: dict[str, np.ndarray], interest: Any) -> np.ndarray:
    """:func:`warehouse_ml.generate.ads.click_logit` of indexed rows at ``interest``."""
    interest = np.broadcast_to(np.asarray(interest, dtype=np.float64), index["ad"].shape)
    return ads_mod.click_logit(
        ads,
        index["ad"],
        index["placement"],
        index["device"],
        index["hour"],
        interest,
        index["at"],
    )


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
    index = _impression_index(rows, ads, users, seed=seed, scale=scale)
    interest = users.interest[index["user"], ads.category[index["ad"]]].astype(np.float64)
    return 1.0 / (1.0 + np.exp(-_click_logit(ads, index, interest)))


POSTERIOR_GRID = 81
"""Points of the interest grid, in [0, 1], on which each viewer's log-likelihood is tabulated
(linear interpolation between them; the log-likelihood is smooth and concave in the interest)."""
POSTERIOR_STEPS = 4000
POSTERIOR_BURN_IN = 1500
"""Metropolis steps per evaluation row, and how many of them are discarded (the step size adapts
during the burn-in towards a 30% acceptance rate)."""
MAX_POSTERIOR_ROWS = 200_000
"""The most evaluation rows the posterior is computed for (memory: rows x categories x grid)."""


def _log_likelihood_grid(offset: np.ndarray, clicked: np.ndarray, slope: float, grid: np.ndarray):
    """``(rows, grid)`` log-probability of each row's label at each interest of the grid."""
    logit = offset[:, None] + slope * grid[None, :]
    return -np.logaddexp(0.0, np.where(clicked[:, None], -logit, logit))


def _summed_by_key(values: np.ndarray, key: np.ndarray, n_keys: int) -> np.ndarray:
    """Rows of ``values`` summed per ``key`` (``n_keys`` rows, zero where a key has none)."""
    out = np.zeros((n_keys, values.shape[1]))
    if len(key):
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        out[sorted_key[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return out


def interest_posterior_predictive(
    history: Mapping[str, np.ndarray],
    rows: Mapping[str, np.ndarray],
    *,
    slope: float,
    n_categories: int,
    concentration: float,
    steps: int = POSTERIOR_STEPS,
    burn_in: int = POSTERIOR_BURN_IN,
    grid_points: int = POSTERIOR_GRID,
    random_seed: int = 0,
) -> np.ndarray:
    """``E[sigmoid(offset + slope * interest[category]) | the viewer's past]`` of each row.

    A viewer's interests are ``Dirichlet(concentration)`` over ``n_categories``; each past
    impression was clicked with probability ``sigmoid(offset + slope * interest[category])``.
    ``history`` and ``rows`` map ``viewer``, ``category``, ``at`` (any ordered instants) and
    ``offset`` to arrays (``history`` also ``clicked``, booleans). A row's past is the history of
    its viewer strictly before its ``at``. The posterior of each row's interest vector is sampled by
    random-walk Metropolis on log-gamma coordinates (``interest = g / sum(g)``,
    ``g_k ~ Gamma(concentration)``), all rows at once; the log-likelihood of each category is
    tabulated on an interest grid. Rows without a past get the prior predictive.
    """
    n, k = len(rows["viewer"]), n_categories
    if n > MAX_POSTERIOR_ROWS:
        raise ValueError(
            f"point-in-time posterior: {n:,} rows is over MAX_POSTERIOR_ROWS "
            f"({MAX_POSTERIOR_ROWS:,}); evaluate on fewer rows (a smaller scale)"
        )
    if not 0 <= burn_in < steps:
        raise ValueError(f"burn_in must be in [0, steps), got {burn_in} of {steps}")
    grid = np.linspace(0.0, 1.0, grid_points)
    viewers, row_viewer = np.unique(rows["viewer"], return_inverse=True)
    h_viewer = pd.Index(viewers).get_indexer(history["viewer"])
    mine = h_viewer >= 0
    h_viewer, h_category = h_viewer[mine], history["category"][mine]
    h_at, h_offset = history["at"][mine], history["offset"][mine]
    h_clicked = np.asarray(history["clicked"])[mine].astype(bool)
    # The past before the rows' first instant, summed per (viewer, category); the history after
    # it (e.g. the evaluation day's earlier impressions), added row by row from prefix sums.
    first = rows["at"].min()
    early = h_at < first
    state = np.zeros((len(viewers) * k, grid_points))
    for start in range(0, int(early.sum()), 250_000):
        part = np.flatnonzero(early)[start : start + 250_000]
        state += _summed_by_key(
            _log_likelihood_grid(h_offset[part], h_clicked[part], slope, grid),
            h_viewer[part] * k + h_category[part],
            len(viewers) * k,
        )
    state = state.reshape(len(viewers), k, grid_points)[row_viewer]
    late = np.flatnonzero(~early)
    if len(late):
        late = late[np.lexsort((h_at[late], h_viewer[late]))]
        contribution = np.zeros((len(late), k, grid_points))
        contribution[np.arange(len(late)), h_category[late]] = _log_likelihood_grid(
            h_offset[late], h_clicked[late], slope, grid
        )
        prefix = np.concatenate([np.zeros((1, k, grid_points)), np.cumsum(contribution, 0)])
        # Per row: the late history of its viewer before its instant is a slice of ``late``.
        lv, la = h_viewer[late], h_at[late]
        for index in range(n):
            v = row_viewer[index]
            lo, hi = np.searchsorted(lv, v, "left"), np.searchsorted(lv, v, "right")
            before = lo + np.searchsorted(la[lo:hi], rows["at"][index], "left")
            state[index] += prefix[before] - prefix[lo]
    flat = state.reshape(n * k, grid_points)
    cell = np.arange(n)[:, None] * k + np.arange(k)[None, :]

    def log_target(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = np.exp(z - z.max(axis=1, keepdims=True))
        interest = g / g.sum(axis=1, keepdims=True)
        position = interest * (grid_points - 1)
        lower = np.minimum(position.astype(np.int64), grid_points - 2)
        weight = position - lower
        likelihood = (1 - weight) * flat[cell, lower] + weight * flat[cell, lower + 1]
        prior = (concentration * z - np.exp(z)).sum(axis=1)
        return prior + likelihood.sum(axis=1), interest

    rng = np.random.default_rng(random_seed)
    z = np.log(rng.gamma(concentration, 1.0, (n, k)) + 1e-300)
    current, interest = log_target(z)
    step = np.full(n, 0.8)
    accepted = np.zeros(n)
    total = np.zeros(n)
    for iteration in range(steps):
        proposal = z + step[:, None] * rng.standard_normal((n, k))
        target, proposed = log_target(proposal)
        accept = np.log(rng.random(n)) < target - current
        z[accept], current[accept], interest[accept] = (
            proposal[accept],
            target[accept],
            proposed[accept],
        )
        accepted += accept
        if iteration < burn_in and (iteration + 1) % 50 == 0:
            step *= np.exp(accepted / 50 - 0.3)
            accepted[:] = 0
        if iteration >= burn_in:
            own = interest[np.arange(n), rows["category"]]
            total += 1.0 / (1.0 + np.exp(-(rows["offset"] + slope * own)))
    return total / (steps - burn_in)


def point_in_time_click_probability(
    rows: pd.DataFrame,
    history: pd.DataFrame,
    *,
    label: str,
    seed: int,
    scale: float,
    new_category: bool = True,
    share: float = ads_mod.NEW_CATEGORY_SHARE,
    effect: float = ads_mod.NEW_CATEGORY_EFFECT,
    random_seed: int = 0,
) -> np.ndarray:
    """The best click probability of each row that a model seeing only the past could give.

    Parameters
    ----------
    rows : pandas.DataFrame
        The impressions to predict, with the columns of :func:`click_probability`.
    history : pandas.DataFrame
        The warehouse's impressions with their label ``label`` (e.g. ``fct_impression_features``),
        at least those of the rows' viewers before them; rows and later history are ignored.
    label : str
        The click label's column of ``history``.
    seed, scale, new_category, share, effect
        As for :func:`click_probability`.

    Returns
    -------
    numpy.ndarray
        :func:`interest_posterior_predictive` with the generator's own terms and prior.
    """
    ads = ads_mod.make_ads(seed, scale, new_category, share, effect)
    users = ads_mod.make_users(seed, scale)
    # The logit is linear in the interest: its value at 0 and its slope, from click_logit itself.
    slopes = []

    def terms(frame: pd.DataFrame) -> dict[str, np.ndarray]:
        index = _impression_index(frame, ads, users, seed=seed, scale=scale)
        offset = _click_logit(ads, index, 0.0)
        slopes.append(_click_logit(ads, index, 1.0) - offset)
        category = ads.category[index["ad"]].astype(np.int64)
        return {"viewer": index["user"], "category": category, "at": index["at"], "offset": offset}

    past, present = terms(history), terms(rows)
    past["clicked"] = history[label].fillna(False).astype(bool).to_numpy()
    slope = float(np.concatenate(slopes).mean()) if sum(map(len, slopes)) else 0.0
    return interest_posterior_predictive(
        past,
        present,
        slope=slope,
        n_categories=len(c.CATEGORIES),
        concentration=ads_mod.INTEREST_CONCENTRATION,
        random_seed=random_seed,
    )
