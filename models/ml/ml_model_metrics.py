"""Evaluation metrics of every registered model version, in long format."""

from warehouse_ml import engine, metrics, registry


def model(dbt, session):
    dbt.config(materialized="table")
    if dbt.is_empty:  # dbt build --empty: the columns, no rows (as its SQL siblings)
        return engine.to_engine_table(session, metrics.metrics_table([]))
    registered = registry.registered_metrics(dbt.ref("ml_churn_model"), dbt.ref("ml_ctr_model"))
    return engine.to_engine_table(session, registered)  # a Spark DataFrame on Spark
