"""One Beta(alpha, beta) CTR prior per placement, fitted on per ad x placement totals."""

from warehouse_ml import ctr_priors, engine


def model(dbt, session):
    dbt.config(materialized="table")
    ad_placements = engine.collect(
        dbt.ref("int_ad_placements_aggregated"), ctr_priors.MAX_AD_PLACEMENT_ROWS
    ).to_pandas()
    return ctr_priors.fit_placement_priors(
        ad_placements,
        min_impressions=int(dbt.config.get("ctr_prior_min_impressions")),
        empty=dbt.is_empty,  # dbt build --empty: the columns, no rows
    )
