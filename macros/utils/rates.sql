{#- safe_rate(numerator, denominator): numerator / denominator as DOUBLE, null when the denominator is 0 (see _utils__macros.yml). -#}
{% macro safe_rate(numerator, denominator) -%}
    {{ return(adapter.dispatch('safe_rate', 'warehouse_ml')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__safe_rate(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}
