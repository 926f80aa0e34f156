"""One Beta(alpha, beta) CTR prior per placement, fitted on per ad x placement totals."""

from warehouse_ml import ctr, frames


def model(dbt, session):
    dbt.config(materialized="table")
    ad_placements = dbt.ref("int_ad_placements_aggregated")
    return ctr.fit_placement_priors(
        frames.collect_small(ad_placements),
        min_impressions=int(dbt.config.get("ctr_prior_min_impressions")),
    )
