{#- The one way a value becomes SQL text: quoted string literals (see _utils__macros.yml). -#}
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

{% macro sql_string_list(values) -%}
    {%- if values is string or values is mapping or values is not iterable or values | length == 0 -%}
        {{ exceptions.raise_compiler_error("sql_string_list: values must be a non-empty list, got " ~ values) }}
    {%- endif -%}
    {%- set literals = [] -%}
    {%- for value in values -%}
        {%- do literals.append(warehouse_ml.sql_string_literal(value)) -%}
    {%- endfor -%}
    {{ return(literals | join(', ')) }}
{%- endmacro %}
