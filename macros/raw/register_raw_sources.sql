{#- register_raw_sources(source_names): make every table of the named sources readable as
    `<source>.<table>` over the same Parquet files on every engine, as an on-run-start hook.
    default__ (Spark SQL): (re)creates each table as an external (unmanaged) Parquet table at
    <raw_data_path>/<table>, with the columns and types declared in the sources yml, so a new
    raw_data_path takes effect on the next run and dropping the table never deletes data.
    duckdb__: nothing to do, dbt-duckdb reads the files through the sources' `external_location`. -#}
{% macro register_raw_sources(source_names) -%}
    {%- if source_names is string or source_names | length == 0 -%}
        {{ exceptions.raise_compiler_error("register_raw_sources: source_names must be a non-empty list of source names, got " ~ source_names) }}
    {%- endif -%}
    {{ return(adapter.dispatch('register_raw_sources', 'warehouse_ml')(source_names)) }}
{%- endmacro %}

{% macro default__register_raw_sources(source_names) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set raw_path = (var('raw_data_path') | string).rstrip('/') -%}
    {%- set registered = [] -%}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') if node.source_name in source_names -%}
        {%- set columns = [] -%}
        {%- for column in node.columns.values() -%}
            {%- if not column.data_type -%}
                {{ exceptions.raise_compiler_error("register_raw_sources: source " ~ node.source_name ~ "." ~ node.name ~ ", column '" ~ column.name ~ "' has no data_type; declare it in the sources yml (it is the contract).") }}
            {%- endif -%}
            {%- do columns.append('`' ~ column.name ~ '` ' ~ warehouse_ml.spark_raw_type(column.data_type)) -%}
        {%- endfor -%}
        {%- set relation = api.Relation.create(schema=node.schema, identifier=node.identifier, type='table') -%}
        {%- call statement('register_raw_schema_' ~ loop.index) -%}
            create schema if not exists {{ relation.schema }}
        {%- endcall -%}
        {%- call statement('register_raw_drop_' ~ loop.index) -%}
            drop table if exists {{ relation }}
        {%- endcall -%}
        {%- call statement('register_raw_create_' ~ loop.index) -%}
            create table {{ relation }} ({{ columns | join(', ') }})
            using parquet
            location '{{ warehouse_ml.raw_sql_string(raw_path ~ "/" ~ node.identifier) }}'
        {%- endcall -%}
        {%- do registered.append(relation | string) -%}
    {%- endfor -%}
    {%- if registered | length == 0 -%}
        {{ exceptions.raise_compiler_error("register_raw_sources: no tables found in sources " ~ source_names ~ "; check the names against models/staging/*/_*__sources.yml") }}
    {%- endif -%}
    {{ log("register_raw_sources: " ~ registered | length ~ " raw tables over Parquet under '" ~ raw_path ~ "': " ~ registered | join(', '), info=true) }}
    {{ return('') }}
{%- endmacro %}

{% macro duckdb__register_raw_sources(source_names) -%}
    {{ return('') }}
{%- endmacro %}


{#- spark_raw_type(data_type): the Spark SQL type for a contract type (VARCHAR and TEXT become STRING,
    which Spark needs without a length; every other contract type has the same name in Spark). -#}
{% macro spark_raw_type(data_type) -%}
    {%- set type_lower = data_type | string | lower | trim -%}
    {%- if type_lower in ['varchar', 'text', 'char', 'bpchar'] -%}
        {{ return('string') }}
    {%- endif -%}
    {{ return(type_lower) }}
{%- endmacro %}
