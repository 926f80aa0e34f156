"""Every customer at the latest observation date, scored by the newest (or pinned) churn model."""

from warehouse_ml import modeling


def model(dbt, session):
    dbt.config(materialized="table")
    return modeling.churn_scores(
        session,
        dbt.ref("fct_customer_churn_features"),
        dbt.ref("ml_churn_model"),
        version=dbt.config.get("churn_model_version"),
    )
