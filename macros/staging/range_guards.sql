{#- Range guards of staging, each a rejection reason: event times (floor, loaded_at, build start) and amounts
    (finite, not above the ceiling, in cents: see money_check). -#}

{% macro event_time_checks(event_at, loaded_at=none) -%}
    {%- set checks = [] -%}
    {%- set floor = warehouse_ml.checked_var('staging_min_event_at') -%}
    {%- if floor is not none -%}
        {%- do checks.append(['event_before_floor',
            event_at ~ ' < cast(' ~ warehouse_ml.sql_string_literal(floor) ~ ' as timestamp)']) -%}
    {%- endif -%}
    {%- do checks.append(['event_in_future', event_at ~ ' > ' ~ warehouse_ml.build_started_at()]) -%}
    {%- if loaded_at is not none -%}
        {%- do checks.append(['event_after_load', event_at ~ ' > ' ~ loaded_at]) -%}
    {%- endif -%}
    {{ return(checks) }}
{%- endmacro %}

{% macro amount_checks(amount, name='amount') -%}
    {%- set checks = [['non_finite_' ~ name, warehouse_ml.is_non_finite(amount)]] -%}
    {%- set ceiling = warehouse_ml.checked_var('staging_max_amount') -%}
    {%- if ceiling is not none -%}
        {%- do checks.append([name ~ '_above_max', amount ~ ' > ' ~ ceiling]) -%}
    {%- endif -%}
    {%- do checks.append(warehouse_ml.money_check(amount, name)) -%}
    {{ return(checks) }}
{%- endmacro %}

{% macro is_non_finite(expr) -%}
    {{ return(adapter.dispatch('is_non_finite', 'warehouse_ml')(expr)) }}
{%- endmacro %}

{#- NaN = NaN is true on DuckDB and Spark alike (both order NaN above every number), so one list fits both. -#}
{% macro default__is_non_finite(expr) -%}
    {{ return(expr ~ " in (cast('NaN' as double), cast('Infinity' as double), cast('-Infinity' as double))") }}
{%- endmacro %}
