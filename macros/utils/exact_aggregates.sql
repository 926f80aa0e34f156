{#- exact_decimal_sum(expr), exact_sum(expr), exact_mean(expr): aggregates that do not depend on row order (see _utils__macros.yml). -#}
{% macro exact_decimal_type() -%}
    {{ return('decimal(38, 18)') }}
{%- endmacro %}

{% macro exact_decimal_sum(expr) -%}
    {{ return('sum(cast(' ~ expr ~ ' as ' ~ warehouse_ml.exact_decimal_type() ~ '))') }}
{%- endmacro %}

{% macro exact_sum(expr) -%}
    {{ return('cast(' ~ warehouse_ml.exact_decimal_sum(expr) ~ ' as double)') }}
{%- endmacro %}

{% macro exact_mean(expr) -%}
    {{ return('(' ~ warehouse_ml.exact_sum(expr) ~ ' / nullif(cast(count(' ~ expr ~ ') as double), 0))') }}
{%- endmacro %}
