"""Every customer of the churn scoring population, scored by the current churn version."""

from warehouse_ml import churn, specs


def model(dbt, session):
    dbt.config(materialized="table")
    return churn.churn_scores(
        session,
        specs.from_table(dbt.ref("ml_model_specs"), "churn"),
        {"ml_churn_scoring_population": dbt.ref("ml_churn_scoring_population")},
        dbt.ref("ml_churn_model"),
        dbt.ref("ml_model_aliases"),
        empty=dbt.is_empty,  # dbt build --empty: the columns, no rows
    )
