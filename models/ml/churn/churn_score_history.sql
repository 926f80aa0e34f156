{#- Every churn score written, one row per customer, observation date and version (see _churn__models.yml). -#}
{%- set history_key = ['customer_id', 'observation_date', 'model_version'] -%}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    on_schema_change='append_new_columns',
    meta={'history_key': history_key},
) }}

with

new_scores as (
    {{ score_history(ref('public_churn_scores'), history_key) }}
)

select * from new_scores
