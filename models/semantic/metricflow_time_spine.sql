{#- One row per day for MetricFlow's time joins (see _semantic__models.yml). -#}
{%- set start_date = warehouse_ml.checked_var('semantic_time_spine_start_date') -%}
{%- set end_date = warehouse_ml.checked_var('semantic_time_spine_end_date') -%}
{%- if start_date > end_date -%}
    {{ exceptions.raise_compiler_error("metricflow_time_spine: var semantic_time_spine_start_date (" ~ start_date ~ ") is after semantic_time_spine_end_date (" ~ end_date ~ "); set the start on or before the end.") }}
{%- endif -%}

with

days as (
    {{ warehouse_ml.day_spine(sql_string_literal(start_date), sql_string_literal(end_date)) }}
)

select * from days
