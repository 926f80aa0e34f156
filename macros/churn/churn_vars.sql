{#- churn_feature_windows(): the churn_feature_windows_days var, checked: a non-empty list of positive whole days. -#}
{% macro churn_feature_windows() -%}
    {{ return(warehouse_ml.windows_days_var('churn_feature_windows_days')) }}
{%- endmacro %}


{#- churn_lookback_days(): the longest period before an observation date that the churn features read (see _churn__macros.yml). -#}
{% macro churn_lookback_days() -%}
    {%- set lookback = warehouse_ml.checked_var('churn_activity_lookback_days') -%}
    {%- set trend_recent = warehouse_ml.checked_var('churn_trend_recent_days') -%}
    {%- set trend_prior = warehouse_ml.checked_var('churn_trend_prior_days') -%}
    {{ return(([lookback, trend_recent + trend_prior] + warehouse_ml.churn_feature_windows()) | max) }}
{%- endmacro %}


{#- churn_out_of_time_date(features): SQL date of the churn out-of-time evaluation (see _churn__macros.yml). -#}
{% macro churn_out_of_time_date(features) -%}
    {{ return('(select max(observation_date) from ' ~ features ~ ' where is_label_complete)') }}
{%- endmacro %}
