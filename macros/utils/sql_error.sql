{#- sql_error(message): a SQL expression that stops the query with `message` when evaluated (see _utils__macros.yml). -#}
{% macro sql_error(message) -%}
    {{ return(adapter.dispatch('sql_error', 'warehouse_ml')(message)) }}
{%- endmacro %}

{% macro default__sql_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}

{% macro duckdb__sql_error(message) -%}
    error({{ message }})
{%- endmacro %}
