"""CTR model registry: one row per trained version, appended; an unchanged retrain adds none."""

from warehouse_ml import engine, modeling


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append")
    # On Spark the Arrow result becomes a Spark DataFrame; DuckDB takes it as it is.
    return engine.to_engine_table(
        session,
        modeling.train_ctr_model(
            dbt.ref("trn_ctr__recent_sample"),
            dbt.ref("fct_impression_features"),
            negative_rate=float(dbt.config.get("ctr_training_negative_rate")),
            sampling_spec=dbt.config.get("sampling_spec"),
            random_state=int(dbt.config.get("ml_random_state")),
            registered=session.sql(f"select * from {dbt.this}") if dbt.is_incremental else None,
        ),
    )
