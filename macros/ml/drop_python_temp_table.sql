{#- drop_python_temp_table(): post-hook of an incremental Python model; drops the `<name>__dbt_tmp<timestamp>` tables dbt-duckdb leaves behind. -#}
{% macro drop_python_temp_table() -%}
    {{ return(adapter.dispatch('drop_python_temp_table', 'warehouse_ml')()) }}
{%- endmacro %}

{#- Elsewhere (Spark) the incremental rows are a temporary view that ends with the session: nothing to drop. -#}
{% macro default__drop_python_temp_table() -%}
{%- endmacro %}

{#- dbt-duckdb names the scratch relation `<identifier>__dbt_tmp<timestamp>` without a schema; for a Python model
    `py_write_table` creates it as a real table in the default schema (not `temp`), and the materialization drops only
    non-temporary scratch relations, so one per run accumulates. Every such table of this model goes, older ones too. -#}
{% macro duckdb__drop_python_temp_table() -%}
    {%- if execute and model.language == 'python' and config.get('materialized') == 'incremental' -%}
        {%- set scratch -%}
            select table_schema, table_name
            from information_schema.tables
            where table_catalog = current_database()
                and starts_with(table_name, {{ warehouse_ml.sql_string_literal(this.identifier ~ '__dbt_tmp') }})
        {%- endset -%}
        {%- for row in run_query(scratch).rows -%}
            drop table if exists {{ adapter.quote(row[0]) }}.{{ adapter.quote(row[1]) }};
        {% endfor -%}
    {%- endif -%}
{%- endmacro %}
