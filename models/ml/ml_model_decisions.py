"""The champion/challenger decision log: one row per decision on a new version, appended."""

from warehouse_ml import engine, promotion


def model(dbt, session):
    # Never rebuilt by --full-refresh: the log is the only record of which version served when.
    dbt.config(materialized="incremental", incremental_strategy="append", full_refresh=False)
    if dbt.is_empty:  # dbt build --empty: the log's columns, no decision (no version to decide on)
        return engine.to_engine_table(session, promotion.DECISIONS_SCHEMA.empty_table())
    decisions = promotion.decide_models(
        dbt.ref("ml_model_specs"),
        {"churn": dbt.ref("ml_churn_model"), "ctr": dbt.ref("ml_ctr_model")},
        {
            "ml_churn_evaluation_out_of_time": dbt.ref("ml_churn_evaluation_out_of_time"),
            "ml_ctr_evaluation_day": dbt.ref("ml_ctr_evaluation_day"),
        },
        decided=session.sql(f"select * from {dbt.this}") if dbt.is_incremental else None,
    )
    return engine.to_engine_table(session, decisions)  # a Spark DataFrame on Spark
