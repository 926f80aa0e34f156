"""CTR model registry: one row per trained version, appended; an unchanged retrain adds none."""

from warehouse_ml import engine, lifecycle, registry_archive, specs


def model(dbt, session):
    # A registry built by an earlier release gains the newer columns (its old rows keep nulls);
    # --full-refresh never drops it. Its yml adds the post-hook that drops dbt-duckdb's __dbt_tmp.
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        on_schema_change="append_new_columns",
        full_refresh=False,
    )
    if dbt.is_incremental:
        registered = session.sql(f"select * from {dbt.this}")
    else:  # first build: the versions of an export (var ml_registry_restore_path), or none
        registered = registry_archive.restore(dbt.config.get("registry_restore_path"), "ctr")
    new_rows = lifecycle.train_and_register(
        specs.from_table(dbt.ref("ml_model_specs"), "ctr"),
        {
            "trn_ctr__recent_sample": dbt.ref("trn_ctr__recent_sample"),
            "ml_ctr_evaluation_day": dbt.ref("ml_ctr_evaluation_day"),
        },
        registered=registered,
        empty=dbt.is_empty,  # dbt build --empty: nothing trained, no rows
    )
    if not dbt.is_incremental:
        new_rows = registry_archive.with_restored(registered, new_rows)
    return engine.to_engine_table(session, new_rows)  # a Spark DataFrame on Spark
