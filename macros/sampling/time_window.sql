{#- time_window(relation, time_column, days, end_date=none): the rows of the last days days up to end_date (see _sampling__macros.yml). -#}
{% macro time_window(relation, time_column, days, end_date=none) -%}
    {%- set time_columns = warehouse_ml._sampling_check_columns('time_window', 'time_column', time_column, relation) -%}
    {%- if time_columns | length != 1 -%}
        {{ exceptions.raise_compiler_error("time_window: argument `time_column` must be one column name, got " ~ (time_column | string) ~ ".") }}
    {%- endif -%}
    {%- do warehouse_ml._sampling_check_whole_number('time_window', 'days', days, 1, hint='Pass e.g. days=60 for the last 60 days.') -%}
    {%- if end_date is not none and (end_date is not string or not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', end_date)) -%}
        {{ exceptions.raise_compiler_error("time_window: argument `end_date` must be a 'YYYY-MM-DD' string or none (the latest date in the data), got " ~ (end_date | string) ~ ".") }}
    {%- endif -%}
    {{ return(adapter.dispatch('time_window', 'warehouse_ml')(relation, time_columns[0], days | int, end_date)) }}
{%- endmacro %}

{% macro default__time_window(relation, time_column, days, end_date) -%}
    {%- if end_date is none -%}
        {%- set end_expr = '(select max(cast(' ~ time_column ~ ' as date)) from ' ~ relation ~ ')' -%}
    {%- else -%}
        {%- set end_expr = "cast(" ~ warehouse_ml.sql_string_literal(end_date) ~ " as date)" -%}
    {%- endif %}
    select *
    from {{ relation }}
    where
        cast({{ time_column }} as date) >= {{ warehouse_ml.add_days(end_expr, 1 - days) }}
        and cast({{ time_column }} as date) <= {{ end_expr }}
{%- endmacro %}
