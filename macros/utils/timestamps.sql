{#- Timestamp arithmetic that differs between engines. default__ is Spark SQL; duckdb__ where DuckDB differs. -#}

{#- timestamp_add_days(timestamp_expr, days): the timestamp `days` days (24 hours each) after
    `timestamp_expr`, time of day kept (unlike add_days, which returns a date). -#}
{% macro timestamp_add_days(timestamp_expr, days) -%}
    {{ return(adapter.dispatch('timestamp_add_days', 'warehouse_ml')(timestamp_expr, days)) }}
{%- endmacro %}

{% macro default__timestamp_add_days(timestamp_expr, days) -%}
    timestampadd(day, {{ days }}, {{ timestamp_expr }})
{%- endmacro %}

{% macro duckdb__timestamp_add_days(timestamp_expr, days) -%}
    ({{ timestamp_expr }} + to_days(cast({{ days }} as integer)))
{%- endmacro %}
