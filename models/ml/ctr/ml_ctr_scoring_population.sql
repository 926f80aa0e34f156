{#- The impressions of the last ctr_scoring_window_days impression days: what the CTR scorers score. -#}
{%- set window_days = warehouse_ml.checked_var('ctr_scoring_window_days') -%}
with

scoring_window as (
    {{ time_window(ref('fct_impression_features'), 'impression_date', window_days) }}
)

select * from scoring_window
