{#- drop_python_temp_table(): post-hook of an incremental Python model; drops the `<name>__dbt_tmp` table dbt-duckdb leaves behind. -#}
{% macro drop_python_temp_table() -%}
    {{ return(adapter.dispatch('drop_python_temp_table', 'warehouse_ml')()) }}
{%- endmacro %}

{#- Elsewhere (Spark) the incremental rows are a temporary view that ends with the session: nothing to drop. -#}
{% macro default__drop_python_temp_table() -%}
{%- endmacro %}

{% macro duckdb__drop_python_temp_table() -%}
    {%- if execute and model.language == 'python' and config.get('materialized') == 'incremental' -%}
        drop table if exists {{ make_temp_relation(this) }}
    {%- endif -%}
{%- endmacro %}
