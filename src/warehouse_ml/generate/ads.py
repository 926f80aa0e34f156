"""Advertising: ads, impressions and clicks.

The click probability is a logistic function of the ad's quality, the placement, the device,
the hour of day and the viewer's interest in the ad's category. After the launch of the new
category its ads take a growing share of the traffic (``NEW_CATEGORY_SHARE`` at the end of the
data, ``--new-category-share``) and click differently from the rest (``NEW_CATEGORY_EFFECT``,
``--new-category-effect``): a higher base rate and their own response to placement, device and
hour, so a model fitted mostly on the old categories mispredicts them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse_ml.generate import common as c

PLACEMENTS = ("feed", "search", "sidebar", "stories", "video")
PLACEMENT_SHARE = np.array([0.40, 0.15, 0.15, 0.18, 0.12])
PLACEMENT_EFFECT = np.array(
    [0.0, 0.9, -0.55, -0.25, -0.85]
)  # search > feed > stories > sidebar > video
DEVICES = ("mobile", "desktop", "tablet")
DEVICE_SHARE = np.array([0.60, 0.30, 0.10])
DEVICE_EFFECT = np.array([0.0, 0.15, -0.15])
# Impressions by hour of day (UTC): low at night, peak in the evening.
_HOURS = np.arange(24)
HOUR_SHARE = (
    1.0
    + 0.8 * np.exp(-0.5 * ((_HOURS - 20) / 3.0) ** 2)
    + 0.4 * np.exp(-0.5 * ((_HOURS - 12) / 2.5) ** 2)
)
HOUR_SHARE[1:7] *= 0.35
HOUR_SHARE = HOUR_SHARE / HOUR_SHARE.sum()
HOUR_EFFECT = 0.25 * np.cos((_HOURS - 21) / 24.0 * 2.0 * np.pi)

BASE_LOGIT = -4.6
AD_QUALITY_SD = 0.45
INTEREST_EFFECT = 2.2  # multiplies (interest - 1 / n_categories) * n_categories ** 0.5
INTEREST_CONCENTRATION = (
    0.6  # each viewer's interests: Dirichlet(0.6, ..., 0.6) over the categories
)
NEW_CATEGORY_AD_SHARE = 0.15  # share of the ads that promote the new category
# The launch knobs (CLI `warehouse-ml generate --new-category-share / --new-category-effect`).
NEW_CATEGORY_SHARE = 0.05
"""Default share of the impressions the new category's ads get at the end of the data. A launch
ramps up: its share grows by a factor e every ``NEW_CATEGORY_RAMP_DAYS`` days up to then, so the
whole history holds about that many days' worth of it. At scale 1 that is about 1,150 impressions
on the last day (the evaluation day) and 16,000 before it: a 5% random training sample holds some
800 of them, the demo's stratified sample (category x placement, 5% and at least 500 rows a
stratum) 2,500, and the evaluation day still has enough of them to measure."""
NEW_CATEGORY_RAMP_DAYS = 14.0
NEW_CATEGORY_EFFECT = 1.0
"""Default strength of the new category's own click behaviour: its logit differs from an old
category's by ``effect`` x (``NEW_CATEGORY_CTR_EFFECT`` + its placement, device and hour terms);
0 makes it click like the old categories."""
NEW_CATEGORY_CTR_EFFECT = 1.0  # base lift of the click logit at effect 1
# Its own response at effect 1, added to the shared effects: wearables click better on visual
# placements (stories, video), on mobile and in the morning, worse from search and desktop.
NEW_CATEGORY_PLACEMENT_EFFECT = np.array([0.1, -0.4, 0.0, 0.3, 0.35])
NEW_CATEGORY_DEVICE_EFFECT = np.array([0.1, -0.2, 0.0])
NEW_CATEGORY_HOUR_EFFECT = 0.15 * np.cos((_HOURS - 8) / 24.0 * 2.0 * np.pi)
USER_DEVICE_LOYALTY = 0.85


@dataclass(frozen=True)
class Ads:
    """The ads with their latent quality and budget.

    Attributes
    ----------
    ad_id, campaign_id : numpy.ndarray
    category : numpy.ndarray
        Codes into ``common.CATEGORIES``.
    created_at : numpy.ndarray
        Microseconds since the epoch; an ad is shown only after it.
    quality : numpy.ndarray
        Additive effect on the click logit.
    budget : numpy.ndarray
        Relative share of impressions.
    new_category_effect : float
        Strength of the new category's own click behaviour (see ``NEW_CATEGORY_EFFECT``).

    The new category's ads hold ``share`` of the budget; an impression drawn for one of them at
    time t is kept with probability ``new_category_ramp(t)`` and otherwise goes to an old ad.
    """

    ad_id: np.ndarray
    campaign_id: np.ndarray
    category: np.ndarray
    created_at: np.ndarray
    quality: np.ndarray
    budget: np.ndarray
    new_category_effect: float = NEW_CATEGORY_EFFECT


@dataclass(frozen=True)
class Users:
    """Ad viewers (not shop customers); only their ids reach the raw data.

    Attributes
    ----------
    activity_cdf : numpy.ndarray
        Cumulative share of impressions per user (normalised).
    device : numpy.ndarray
        Main device code per user.
    interest : numpy.ndarray
        ``(n_users, n_categories)`` float32 interest profile, rows sum to 1.
    """

    activity_cdf: np.ndarray
    device: np.ndarray
    interest: np.ndarray


def check_launch(share: float, effect: float) -> None:
    """Raise ``ValueError`` unless ``share`` is in (0, 1) and ``effect`` is a number >= 0."""
    if not 0 < share < 1:
        raise ValueError(
            f"new_category_share must be in (0, 1) (a share of impressions), got {share}"
        )
    if not effect >= 0:
        raise ValueError(f"new_category_effect must be >= 0 (0: no own behaviour), got {effect}")


def make_ads(
    seed: int,
    scale: float,
    new_category: bool = True,
    share: float = NEW_CATEGORY_SHARE,
    effect: float = NEW_CATEGORY_EFFECT,
) -> Ads:
    """Generate ``common.n_ads_for(scale)`` ads grouped into campaigns.

    About 15% promote the new category; they are created on or after its launch and hold
    ``share`` of the total budget (their share of impressions at the end of the data; before,
    the ramp ``new_category_ramp`` thins them). The others are mostly created before impressions
    start (at least one of them always is).

    Parameters
    ----------
    seed : int
    scale : float
    new_category : bool, default True
        False: no launch; no ad promotes the new category (``share`` and ``effect`` unused).
    share : float, default NEW_CATEGORY_SHARE
        The new category's share of the ad budget, in (0, 1): of impressions at the end of the data.
    effect : float, default NEW_CATEGORY_EFFECT
        Strength of its own click behaviour (>= 0).

    Returns
    -------
    Ads
    """
    check_launch(share, effect)
    rng = c.rng_for(seed, "ads")
    n = c.n_ads_for(scale)
    n_new = max(4, round(n * NEW_CATEGORY_AD_SHARE)) if new_category else 0
    n_old = n - n_new
    old_categories = len(c.CATEGORIES) - 1
    category = np.concatenate(
        [rng.integers(0, old_categories, n_old), np.full(n_new, old_categories)]
    ).astype(np.int64)
    early = rng.random(n_old) < 0.75
    early[0] = True
    created_old = np.where(
        early,
        rng.integers(c.to_us("2025-02-01"), c.IMPRESSIONS_START, n_old),
        rng.integers(c.IMPRESSIONS_START, c.to_us("2025-11-15"), n_old),
    )
    created_new = c.NEW_CATEGORY_LAUNCH + rng.integers(0, 30 * c.US_PER_DAY, n_new)
    created_new[:1] = c.NEW_CATEGORY_LAUNCH
    order = np.argsort(np.concatenate([created_old, created_new]), kind="stable")
    created_at = np.concatenate([created_old, created_new])[order]
    category = category[order]
    # Consecutive ads (by creation time) of the same category share a campaign of 1-6 ads.
    new_campaign = np.ones(n, dtype=bool)
    new_campaign[1:] = (category[1:] != category[:-1]) | (rng.random(n - 1) < 0.3)
    campaign_id = 1000 + np.cumsum(new_campaign)
    budget = rng.lognormal(0.0, 0.7, n)
    is_new = category == old_categories
    if n_new:
        # Scale the new ads' budgets so that they hold `share` of the total.
        budget[is_new] *= share / (1.0 - share) * budget[~is_new].sum() / budget[is_new].sum()
    return Ads(
        ad_id=np.arange(1, n + 1, dtype=np.int64),
        campaign_id=campaign_id.astype(np.int64),
        category=category,
        created_at=created_at.astype(np.int64),
        quality=rng.normal(0.0, AD_QUALITY_SD, n),
        budget=budget,
        new_category_effect=float(effect),
    )


def new_category_ramp(at: np.ndarray) -> np.ndarray:
    """The new category's traffic at ``at`` relative to the end: exp(-days to the end / ramp)."""
    days_to_end = (c.IMPRESSIONS_END - at) / c.US_PER_DAY
    return np.exp(-np.maximum(days_to_end, 0.0) / NEW_CATEGORY_RAMP_DAYS)


def n_users_for(scale: float) -> int:
    """Number of ad users at a scale (at least 100)."""
    return max(100, round(c.USERS_PER_SCALE * scale))


def make_users(seed: int, scale: float) -> Users:
    """Generate the latent ad users (activity, main device, category interests).

    Parameters
    ----------
    seed : int
    scale : float

    Returns
    -------
    Users
    """
    rng = c.rng_for(seed, "users")
    n = n_users_for(scale)
    activity = rng.lognormal(0.0, 1.0, n)
    interest = rng.dirichlet(np.full(len(c.CATEGORIES), INTEREST_CONCENTRATION), n).astype(
        np.float32
    )
    return Users(
        activity_cdf=np.cumsum(activity) / activity.sum(),
        device=rng.choice(len(DEVICES), size=n, p=DEVICE_SHARE),
        interest=interest,
    )


def n_impressions_for(scale: float) -> int:
    """Number of impressions (before duplicates) at a scale."""
    return max(1000, round(c.IMPRESSIONS_PER_SCALE * scale))


def click_logit(
    ads: Ads,
    ad: np.ndarray,
    placement: np.ndarray,
    device: np.ndarray,
    hour: np.ndarray,
    interest: np.ndarray,
    at: np.ndarray,
) -> np.ndarray:
    """Click log-odds of impressions.

    Parameters
    ----------
    ads : Ads
    ad, placement, device, hour : numpy.ndarray
        Per impression: ad index, placement code, device code, hour of day.
    interest : numpy.ndarray
        The viewer's interest in the ad's category (0-1).
    at : numpy.ndarray
        Impression time (microseconds).

    Returns
    -------
    numpy.ndarray
    """
    k = len(c.CATEGORIES)
    is_new = (ads.category[ad] == k - 1) & (at >= c.NEW_CATEGORY_LAUNCH)
    own_behaviour = (
        NEW_CATEGORY_CTR_EFFECT
        + NEW_CATEGORY_PLACEMENT_EFFECT[placement]
        + NEW_CATEGORY_DEVICE_EFFECT[device]
        + NEW_CATEGORY_HOUR_EFFECT[hour]
    )
    return (
        BASE_LOGIT
        + ads.quality[ad]
        + PLACEMENT_EFFECT[placement]
        + DEVICE_EFFECT[device]
        + HOUR_EFFECT[hour]
        + INTEREST_EFFECT * (interest - 1.0 / k) * np.sqrt(k)
        + ads.new_category_effect * own_behaviour * is_new
    )


def impressions_chunk(
    seed: int,
    chunk: int,
    size: int,
    first_id: int,
    ads: Ads,
    users: Users,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Generate one chunk of impressions and the clicks on them.

    Parameters
    ----------
    seed : int
    chunk : int
        Chunk index (selects the random stream).
    size : int
        Number of impressions (before duplicates).
    first_id : int
        ``impression_id`` of the first row.
    ads : Ads
    users : Users

    Returns
    -------
    impressions, clicks : dict of str to numpy.ndarray
        Columns of both tables, imperfections included.
    """
    rng = c.rng_for(seed, "impressions", chunk)
    n_days = (c.IMPRESSIONS_END - c.IMPRESSIONS_START) // c.US_PER_DAY
    # Traffic grows by half over the period; weekends are 15% busier.
    days = np.arange(n_days)
    day_weight = (1.0 + 0.5 * days / n_days) * np.where((days + 3) % 7 >= 5, 1.15, 1.0)
    day = c.sample_weighted(rng, np.cumsum(day_weight) / day_weight.sum(), size)
    hour = c.sample_weighted(rng, np.cumsum(HOUR_SHARE), size)
    at = (
        c.IMPRESSIONS_START
        + day * c.US_PER_DAY
        + hour * c.US_PER_HOUR
        + rng.integers(0, c.US_PER_HOUR, size)
    ).astype(np.int64)
    order = np.argsort(at, kind="stable")
    at, hour = at[order], hour[order]

    user = c.sample_weighted(rng, users.activity_cdf, size)
    device = np.where(
        rng.random(size) < USER_DEVICE_LOYALTY,
        users.device[user],
        rng.choice(len(DEVICES), size=size, p=DEVICE_SHARE),
    )
    placement = rng.choice(len(PLACEMENTS), size=size, p=PLACEMENT_SHARE)
    ad = c.sample_available(rng, ads.budget, ads.created_at, at)
    is_new = ads.category == len(c.CATEGORIES) - 1
    if is_new.any():
        # The launch ramps up: thin the new category's impressions, giving the rest to old ads.
        thinned = np.flatnonzero(is_new[ad] & (rng.random(size) >= new_category_ramp(at)))
        old_budget = np.where(is_new, 0.0, ads.budget)
        ad[thinned] = c.sample_available(rng, old_budget, ads.created_at, at[thinned])
    interest = users.interest[user, ads.category[ad]]
    probability = 1.0 / (1.0 + np.exp(-click_logit(ads, ad, placement, device, hour, interest, at)))
    impression_id = np.arange(first_id, first_id + size, dtype=np.int64)
    loaded_at = c.loaded_at_for(rng, at)

    impressions = {
        "impression_id": impression_id,
        "impressed_at": at,
        "ad_id": ads.ad_id[ad],
        "placement": placement,
        "device": device,
        "user_id": user.astype(np.int64) + 1,
        "loaded_at": loaded_at,
    }
    dup, extra = c.duplicate_rows(rng, size)
    impressions = {k: np.concatenate([v, v[dup]]) for k, v in impressions.items()}
    impressions["loaded_at"][size:] += extra

    clicked = np.flatnonzero(rng.random(size) < probability)
    # Seconds to minutes after the impression (log-normal, median 15 s).
    delay = (
        c.US_PER_SECOND + rng.lognormal(np.log(15.0), 1.0, clicked.shape[0]) * c.US_PER_SECOND
    ).astype(np.int64)
    clicked_at = at[clicked] + delay
    inside = clicked_at < c.IMPRESSIONS_END
    clicked, clicked_at = clicked[inside], clicked_at[inside]
    click_ids = impression_id[clicked]
    # Clicks whose impression does not exist.
    n_orphans = rng.binomial(clicked.shape[0], c.ORPHAN_CLICK_RATE)
    orphan_at = np.sort(
        rng.integers(c.IMPRESSIONS_START, c.IMPRESSIONS_END - c.US_PER_HOUR, n_orphans)
    )
    orphan_ids = c.ORPHAN_IMPRESSION_ID_BASE + first_id + np.arange(n_orphans, dtype=np.int64)
    click_ids = np.concatenate([click_ids, orphan_ids])
    clicked_at = np.concatenate([clicked_at, orphan_at])
    clicks = {
        "impression_id": click_ids,
        "clicked_at": clicked_at,
        "loaded_at": c.loaded_at_for(rng, clicked_at),
    }
    dup, extra = c.duplicate_rows(rng, click_ids.shape[0])
    n_clicks = click_ids.shape[0]
    clicks = {k: np.concatenate([v, v[dup]]) for k, v in clicks.items()}
    clicks["loaded_at"][n_clicks:] += extra
    return impressions, clicks
