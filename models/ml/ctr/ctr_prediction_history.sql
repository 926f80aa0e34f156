{#- Every CTR prediction ever written, one row per ctr_predictions grain and model version (see _ctr__models.yml). -#}
{#- history_key: warehouse_ml.ctr.PREDICTION_GRAIN + model_version (test_drift checks they agree). -#}
{%- set history_key = ['ad_id', 'placement', 'impression_date', 'model_version'] -%}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    on_schema_change='append_new_columns',
    meta={'history_key': history_key},
) }}

with

new_predictions as (
    {{ score_history(ref('public_ctr_predictions'), history_key) }}
)

select * from new_predictions
