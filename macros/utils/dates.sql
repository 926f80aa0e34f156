{#- Date arithmetic that differs between engines. default__ is Spark SQL / ANSI; duckdb__ where DuckDB differs. -#}

{#- add_days(date_expr, days): the date `days` days after `date_expr` (negative goes back). -#}
{% macro add_days(date_expr, days) -%}
    {{ return(adapter.dispatch('add_days', 'warehouse_ml')(date_expr, days)) }}
{%- endmacro %}

{% macro default__add_days(date_expr, days) -%}
    date_add({{ date_expr }}, {{ days }})
{%- endmacro %}

{% macro duckdb__add_days(date_expr, days) -%}
    (cast({{ date_expr }} as date) + cast({{ days }} as integer))
{%- endmacro %}


{#- days_between(start_expr, end_expr): whole days from start to end (end - start). -#}
{% macro days_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('days_between', 'warehouse_ml')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__days_between(start_expr, end_expr) -%}
    datediff(cast({{ end_expr }} as date), cast({{ start_expr }} as date))
{%- endmacro %}

{% macro duckdb__days_between(start_expr, end_expr) -%}
    date_diff('day', cast({{ start_expr }} as date), cast({{ end_expr }} as date))
{%- endmacro %}


{#- day_spine(start_expr, end_expr): a select of one row per day, column date_day, both ends included (bounds may be subqueries). -#}
{% macro day_spine(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('day_spine', 'warehouse_ml')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__day_spine(start_expr, end_expr) -%}
    select explode(sequence(cast({{ start_expr }} as date), cast({{ end_expr }} as date), interval 1 day)) as date_day
{%- endmacro %}

{% macro duckdb__day_spine(start_expr, end_expr) -%}
    select cast(unnest(generate_series(cast({{ start_expr }} as date), cast({{ end_expr }} as date), interval 1 day)) as date) as date_day
{%- endmacro %}
