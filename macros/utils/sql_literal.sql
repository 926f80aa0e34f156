{#- sql_string_literal(value): `value` as text in a quoted SQL string literal (see _utils__macros.yml). -#}
{% macro sql_string_literal(value) -%}
    {{ return(adapter.dispatch('sql_string_literal', 'warehouse_ml')(value)) }}
{%- endmacro %}

{% macro default__sql_string_literal(value) -%}
    {{ return("'" ~ (value | string | replace("'", "''")) ~ "'") }}
{%- endmacro %}

{#- Spark reads backslash escapes in string literals and does not take '' for a quote. -#}
{% macro spark__sql_string_literal(value) -%}
    {{ return("'" ~ (value | string | replace("\\", "\\\\") | replace("'", "\\'")) ~ "'") }}
{%- endmacro %}
