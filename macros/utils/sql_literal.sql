{#- sql_string_literal(value): `value` as a quoted SQL string literal, or null (see _utils__macros.yml). -#}
{% macro sql_string_literal(value) -%}
    {%- if value is none -%}
        {{ return('null') }}
    {%- endif -%}
    {{ return(adapter.dispatch('sql_string_literal', 'warehouse_ml')(value | string)) }}
{%- endmacro %}

{% macro default__sql_string_literal(value) -%}
    {{ return("'" ~ value | replace("'", "''") ~ "'") }}
{%- endmacro %}

{#- Spark reads backslash escapes in string literals and does not take '' for a quote. -#}
{% macro spark__sql_string_literal(value) -%}
    {{ return("'" ~ value | replace('\\', '\\\\') | replace("'", "\\'") ~ "'") }}
{%- endmacro %}
