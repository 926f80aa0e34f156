{#- Timestamp arithmetic that differs between engines. default__ is Spark SQL; duckdb__ where DuckDB differs. -#}

{#- timestamp_add_days(timestamp_expr, days): the timestamp days x 24 hours after timestamp_expr, time of day kept. -#}
{% macro timestamp_add_days(timestamp_expr, days) -%}
    {{ return(adapter.dispatch('timestamp_add_days', 'warehouse_ml')(timestamp_expr, days)) }}
{%- endmacro %}

{% macro default__timestamp_add_days(timestamp_expr, days) -%}
    timestampadd(day, {{ days }}, {{ timestamp_expr }})
{%- endmacro %}

{% macro duckdb__timestamp_add_days(timestamp_expr, days) -%}
    ({{ timestamp_expr }} + to_days(cast({{ days }} as integer)))
{%- endmacro %}

{#- utc_timestamp(expr): a raw timestamp, naive (UTC by contract) or time-zone-aware, as a naive UTC timestamp. -#}
{% macro utc_timestamp(expr) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'warehouse_ml')(expr)) }}
{%- endmacro %}

{% macro default__utc_timestamp(expr) -%}
    cast({{ expr }} as timestamp)
{%- endmacro %}

{% macro duckdb__utc_timestamp(expr) -%}
    make_timestamp(epoch_us({{ expr }}))
{%- endmacro %}

{#- build_started_at(): dbt's run_started_at as a UTC timestamp literal (the same in every model of a run). -#}
{% macro build_started_at() -%}
    {%- set started = run_started_at -%}
    {%- if started.tzinfo is not none -%}
        {%- set started = started.astimezone(modules.pytz.utc) -%}
    {%- endif -%}
    {{ return("cast(" ~ warehouse_ml.sql_string_literal(started.strftime('%Y-%m-%d %H:%M:%S.%f')) ~ " as timestamp)") }}
{%- endmacro %}
