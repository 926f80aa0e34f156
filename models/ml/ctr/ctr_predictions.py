"""Predicted vs observed CTR per ad x placement x day of the CTR scoring population."""

from warehouse_ml import ctr, specs


def model(dbt, session):
    dbt.config(materialized="table")
    return ctr.ctr_predictions(
        session,
        specs.from_table(dbt.ref("ml_model_specs"), "ctr"),
        {"ml_ctr_scoring_population": dbt.ref("ml_ctr_scoring_population")},
        dbt.ref("ml_ctr_model"),
        dbt.ref("ml_model_aliases"),
        empty=dbt.is_empty,  # dbt build --empty: the columns, no rows
    )
