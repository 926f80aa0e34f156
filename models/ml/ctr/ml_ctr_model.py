"""CTR model registry: one row per trained version, appended; an unchanged retrain adds none."""

from warehouse_ml import engine, lifecycle, specs


def model(dbt, session):
    # A registry built by an earlier release gains the newer columns (its old rows keep nulls).
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        on_schema_change="append_new_columns",
    )
    registry = lifecycle.train_and_register(
        specs.from_table(dbt.ref("ml_model_specs"), "ctr"),
        {
            "trn_ctr__recent_sample": dbt.ref("trn_ctr__recent_sample"),
            "ml_ctr_evaluation_day": dbt.ref("ml_ctr_evaluation_day"),
        },
        registered=session.sql(f"select * from {dbt.this}") if dbt.is_incremental else None,
    )
    return engine.to_engine_table(session, registry)  # a Spark DataFrame on Spark
