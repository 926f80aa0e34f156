"""Evaluation metrics of every registered model version, in long format."""

from warehouse_ml import engine, registry


def model(dbt, session):
    dbt.config(materialized="table")
    metrics = registry.registered_metrics(dbt.ref("ml_churn_model"), dbt.ref("ml_ctr_model"))
    return engine.to_engine_table(session, metrics)  # a Spark DataFrame on Spark
