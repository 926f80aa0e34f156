"""Curves, thresholds, confusion, importance and score bins of the serving versions, long."""

from warehouse_ml import engine, evaluation


def model(dbt, session):
    dbt.config(materialized="table")
    rows = evaluation.evaluate_models(
        dbt.ref("ml_model_specs"),
        {"churn": dbt.ref("ml_churn_model"), "ctr": dbt.ref("ml_ctr_model")},
        dbt.ref("ml_model_aliases"),
        {
            "trn_churn__cluster_sample": dbt.ref("trn_churn__cluster_sample"),
            "ml_churn_evaluation_out_of_time": dbt.ref("ml_churn_evaluation_out_of_time"),
            "ml_ctr_evaluation_day": dbt.ref("ml_ctr_evaluation_day"),
        },
    )
    return engine.to_engine_table(session, rows)  # a Spark DataFrame on Spark
