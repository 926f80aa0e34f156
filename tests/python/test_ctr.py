"""Tests of the CTR Beta priors per placement (warehouse_ml.ctr_priors)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from warehouse_ml import ctr_priors

PROJECT = Path(__file__).resolve().parents[2]


def simulate_ads(
    alpha: float, beta: float, n_ads: int, impressions_range: tuple[int, int], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Beta-binomial ads: each ad's true CTR ~ Beta(alpha, beta), clicks ~ Binomial(n, CTR)."""
    rng = np.random.default_rng(seed)
    impressions = rng.integers(*impressions_range, size=n_ads)
    clicks = rng.binomial(impressions, rng.beta(alpha, beta, size=n_ads))
    return clicks, impressions


# --- fit_beta_prior_details ------------------------------------------------------------------


def fit_beta_prior(*args: object, **kwargs: object) -> tuple[float, float]:
    """``(alpha, beta)`` of :func:`ctr_priors.fit_beta_prior_details`."""
    fit = ctr_priors.fit_beta_prior_details(*args, **kwargs)
    return fit.alpha, fit.beta


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_beta_prior_recovers_known_alpha_and_beta(seed: int) -> None:
    # True prior Beta(4, 196): mean 0.02, strength 200. 4000 ads give a standard error of
    # about 3% on the strength, so 15% is a wide margin for a fixed seed, not a loose test.
    clicks, impressions = simulate_ads(4.0, 196.0, 4000, (100, 300), seed)
    alpha, beta = fit_beta_prior(clicks, impressions, min_impressions=100)
    assert alpha == pytest.approx(4.0, rel=0.15)
    assert beta == pytest.approx(196.0, rel=0.15)
    assert alpha / (alpha + beta) == pytest.approx(0.02, abs=0.001)


def test_fit_beta_prior_corrects_for_binomial_noise() -> None:
    # With 100-300 impressions per ad, binomial noise is about as large as the true spread:
    # ignoring it would halve the strength. The corrected fit stays near 200.
    clicks, impressions = simulate_ads(4.0, 196.0, 4000, (100, 300), seed=5)
    alpha, beta = fit_beta_prior(clicks, impressions, min_impressions=100)
    rates = clicks / impressions
    naive_strength = rates.mean() * (1 - rates.mean()) / rates.var(ddof=1) - 1
    assert naive_strength < 120
    assert alpha + beta == pytest.approx(200.0, rel=0.15)


def test_fit_beta_prior_matches_hand_computed_moments() -> None:
    # CTRs 0.01, 0.05, 0.10, 0.03 at 100 impressions each:
    # m = 0.0475, var_obs = 0.004475 / 3, noise = 0.1765 / 400, var_true = var_obs - noise.
    alpha, beta = fit_beta_prior([1, 5, 10, 3], [100, 100, 100, 100], min_impressions=50)
    mean = 0.0475
    var_true = 0.004475 / 3 - 0.1765 / 400
    strength = mean * (1 - mean) / var_true - 1
    assert alpha == pytest.approx(mean * strength, rel=1e-12)
    assert beta == pytest.approx((1 - mean) * strength, rel=1e-12)


def test_fit_beta_prior_ignores_ads_below_min_impressions() -> None:
    base_clicks, base_impressions = [1, 5, 10, 3], [100, 100, 100, 100]
    expected = fit_beta_prior(base_clicks, base_impressions, min_impressions=100)
    # An ad with 99 impressions and an extreme CTR must not move the fit.
    with_small_ad = fit_beta_prior(base_clicks + [90], base_impressions + [99], min_impressions=100)
    assert with_small_ad == pytest.approx(expected)
    details = ctr_priors.fit_beta_prior_details(
        base_clicks + [90], base_impressions + [99], min_impressions=100
    )
    assert details.ads_used == 4
    assert not details.is_fallback


def test_fit_beta_prior_falls_back_to_weak_prior_without_excess_variance() -> None:
    # Four identical ads: observed variance 0, so var_true < 0 and the moments have no Beta.
    alpha, beta = fit_beta_prior([2, 2, 2, 2], [100, 100, 100, 100], min_impressions=100)
    pooled = (8 + 0.5) / (400 + 1)
    assert alpha == pytest.approx(pooled * ctr_priors.FALLBACK_PRIOR_STRENGTH)
    assert beta == pytest.approx((1 - pooled) * ctr_priors.FALLBACK_PRIOR_STRENGTH)
    assert alpha + beta == pytest.approx(10.0)
    details = ctr_priors.fit_beta_prior_details([2, 2, 2, 2], [100, 100, 100, 100], 100)
    assert details.is_fallback


def test_fit_beta_prior_fallback_strength_is_configurable() -> None:
    alpha, beta = fit_beta_prior(
        [2, 2, 2], [100, 100, 100], min_impressions=100, fallback_strength=50.0
    )
    assert alpha + beta == pytest.approx(50.0)
    assert alpha / (alpha + beta) == pytest.approx(6.5 / 301)


def test_fit_beta_prior_without_clicks_stays_positive() -> None:
    alpha, beta = fit_beta_prior([0, 0, 0], [100, 200, 300], min_impressions=100)
    assert alpha == pytest.approx(0.5 / 601 * 10)
    assert alpha > 0
    assert beta > 0


def test_fit_beta_prior_falls_back_when_variance_exceeds_any_beta() -> None:
    # Half the ads never clicked, half always: var_true >= m(1 - m), no Beta fits.
    alpha, beta = fit_beta_prior([0, 0, 100, 100], [100, 100, 100, 100], 100)
    assert alpha + beta == pytest.approx(ctr_priors.FALLBACK_PRIOR_STRENGTH)
    assert alpha == pytest.approx((200.5 / 401) * 10)


def test_fit_beta_prior_refuses_too_few_ads() -> None:
    with pytest.raises(ValueError, match="only 2 ads have at least 100 impressions"):
        fit_beta_prior([1, 2, 3], [100, 150, 50], min_impressions=100)


@pytest.mark.parametrize(
    ("clicks", "impressions", "message"),
    [
        ([5, 1, 1], [4, 100, 100], "0 <= clicks <= impressions"),
        ([-1, 1, 1], [100, 100, 100], "0 <= clicks <= impressions"),
        ([1, 1], [100, 100, 100], "same length"),
        ([np.nan, 1, 1], [100, 100, 100], "finite"),
    ],
)
def test_fit_beta_prior_rejects_invalid_counts(
    clicks: list[float], impressions: list[int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fit_beta_prior(clicks, impressions, min_impressions=1)


# --- fit_placement_priors --------------------------------------------------------------------


def placement_totals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ad_id": [1, 2, 3, 4, 1, 2, 3],
            "placement": ["search", "search", "search", "search", "feed", "feed", "feed"],
            "clicks": [1, 5, 10, 3, 2, 2, 2],
            "impressions": [100, 100, 100, 100, 100, 100, 100],
        }
    )


def test_fit_placement_priors_fits_each_placement_on_its_own_ads() -> None:
    priors = ctr_priors.fit_placement_priors(placement_totals(), min_impressions=100)
    assert list(priors.columns) == ctr_priors.PRIOR_COLUMNS
    assert priors["placement"].tolist() == ["feed", "search"]
    search = priors.set_index("placement").loc["search"]
    alpha, beta = fit_beta_prior([1, 5, 10, 3], [100] * 4, min_impressions=100)
    assert search["prior_alpha"] == pytest.approx(alpha)
    assert search["prior_beta"] == pytest.approx(beta)
    assert search["prior_mean"] == pytest.approx(0.0475)
    assert search["ads_used"] == 4
    assert not search["is_fallback_prior"]
    feed = priors.set_index("placement").loc["feed"]
    assert feed["ads_used"] == 3
    assert feed["is_fallback_prior"]
    assert feed["prior_mean"] == pytest.approx(6.5 / 301)


def test_fit_placement_priors_names_the_placement_with_too_few_ads() -> None:
    totals = pd.concat(
        [
            placement_totals(),
            pd.DataFrame(
                {"ad_id": [9], "placement": ["video"], "clicks": [1], "impressions": [500]}
            ),
        ]
    )
    with pytest.raises(ValueError, match="placement 'video'.*only 1 ads"):
        ctr_priors.fit_placement_priors(totals, min_impressions=100)


def test_fit_placement_priors_needs_columns_and_rows() -> None:
    with pytest.raises(ValueError, match="needs columns \\['clicks'\\]"):
        ctr_priors.fit_placement_priors(placement_totals().drop(columns="clicks"))
    with pytest.raises(ValueError, match="no rows"):
        ctr_priors.fit_placement_priors(placement_totals().iloc[0:0])


def test_fit_placement_priors_do_not_depend_on_row_order() -> None:
    """Engines return rows in any order; the priors must be bit-identical whatever it is."""
    clicks, impressions = simulate_ads(3.0, 150.0, 60, (200, 5_000), seed=11)
    frame = pd.DataFrame(
        {
            "ad_id": np.arange(60),
            "placement": np.where(np.arange(60) % 2 == 0, "feed", "search"),
            "clicks": clicks,
            "impressions": impressions,
        }
    )
    expected = ctr_priors.fit_placement_priors(frame, min_impressions=100)
    for seed in range(5):
        shuffled = frame.sample(frac=1.0, random_state=seed)
        actual = ctr_priors.fit_placement_priors(shuffled, min_impressions=100)
        pd.testing.assert_frame_equal(actual, expected, check_exact=True)


def test_prior_model_imports_no_scikit_learn() -> None:
    """ctr_placement_priors runs in every build of the CTR chain: importing scikit-learn (about a
    second) would cost more than its fit. Its modules must import numpy, pandas and pyarrow only."""
    model = PROJECT / "models" / "intermediate" / "ctr" / "ctr_placement_priors.py"
    lines = model.read_text().splitlines()
    imports = [line for line in lines if line.startswith(("from ", "import "))]
    assert imports == ["from warehouse_ml import ctr_priors, engine"]
    listed = "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))"
    probe = "; ".join(["import sys", *imports, listed])
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"


def _previous_counts_by_search(group: pd.DataFrame) -> pd.DataFrame:
    """Per instant: the group's impressions and clicks strictly before it (sorted search)."""
    impressed = np.sort(group["impressed_at"].to_numpy())
    clicked = np.sort(np.maximum(group["clicked_at"], group["impressed_at"]).dropna().to_numpy())
    instants = np.unique(impressed)
    return pd.DataFrame(
        {
            "impressed_at": instants,
            "expected_impressions": np.searchsorted(impressed, instants, side="left"),
            "expected_clicks": np.searchsorted(clicked, instants, side="left"),
        }
    )


def test_viewer_category_features_count_only_earlier_instants(default_build: dict) -> None:
    # An independent recomputation of every row of fct_impression_features' viewer x category
    # columns from the impressions and clicks (sorted search instead of a window): strictly
    # earlier impressions and clicks of the same viewer and category, ties at one instant excluded.
    import duckdb

    with duckdb.connect(str(default_build["db"]), read_only=True) as connection:
        events = connection.sql(
            """
            select impressions.user_id, ads.product_category, impressions.impressed_at,
                impressions.clicked_at
            from intermediate.int_impressions_joined_to_clicks as impressions
            inner join staging.stg_ads__ads as ads on impressions.ad_id = ads.ad_id
            """
        ).df()
        features = connection.sql(
            """
            select user_id, product_category, impressed_at, viewer_category_previous_impressions,
                viewer_category_previous_clicks,
                viewer_category_previous_smoothed_click_through_rate,
                viewer_category_previous_click_log_odds,
                viewer_category_previous_log_impressions
            from marts.fct_impression_features
            """
        ).df()
        prior_impressions = 10.0  # ctr_viewer_prior_impressions at the default vars
    expected = (
        events.groupby(["user_id", "product_category"], group_keys=True)
        .apply(_previous_counts_by_search, include_groups=False)
        .reset_index(level=[0, 1])
    )
    merged = features.merge(expected, on=["user_id", "product_category", "impressed_at"])
    assert len(merged) == len(features) == len(events)
    assert (merged["viewer_category_previous_impressions"] == merged["expected_impressions"]).all()
    assert (merged["viewer_category_previous_clicks"] == merged["expected_clicks"]).all()
    prior = (events["clicked_at"].notna().sum() + 1.0) / (len(events) + 2.0)
    np.testing.assert_allclose(
        merged["viewer_category_previous_smoothed_click_through_rate"],
        (merged["expected_clicks"] + prior_impressions * prior)
        / (merged["expected_impressions"] + prior_impressions),
        rtol=1e-12,
    )
    rate = merged["viewer_category_previous_smoothed_click_through_rate"]
    np.testing.assert_allclose(
        merged["viewer_category_previous_click_log_odds"], np.log(rate / (1 - rate)), rtol=1e-12
    )
    np.testing.assert_allclose(
        merged["viewer_category_previous_log_impressions"],
        np.log1p(merged["expected_impressions"]),
        rtol=1e-12,
    )
    # The data hold both cases the rule is about: first impressions and clicks already seen.
    assert (merged["expected_impressions"] == 0).any() and (merged["expected_clicks"] > 0).any()
