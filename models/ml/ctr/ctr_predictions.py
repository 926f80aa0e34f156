"""Predicted vs observed CTR per ad x placement x day over the scoring window."""

from warehouse_ml import modeling


def model(dbt, session):
    dbt.config(materialized="table")
    return modeling.ctr_predictions(
        session,
        dbt.ref("fct_impression_features"),
        dbt.ref("ml_ctr_model"),
        window_days=int(dbt.config.get("ctr_scoring_window_days")),
        version=dbt.config.get("ctr_model_version"),
    )
