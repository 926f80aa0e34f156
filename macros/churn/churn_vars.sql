{#- churn_feature_windows(): the churn_feature_windows_days var, checked: a non-empty list of positive whole days. -#}
{% macro churn_feature_windows() -%}
    {{ return(warehouse_ml.windows_days_var('churn_feature_windows_days')) }}
{%- endmacro %}


{#- churn_out_of_time_date(features): SQL date of the churn out-of-time evaluation (see _churn__macros.yml). -#}
{% macro churn_out_of_time_date(features) -%}
    {{ return('(select max(observation_date) from ' ~ features ~ ' where is_label_complete)') }}
{%- endmacro %}
