{#- register_raw_sources(source_names): the raw tables as `<source>.<table>` on every engine (docs in _raw__macros.yml). -#}
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
    {%- set raw_path = warehouse_ml.checked_var('raw_data_path') -%}
    {%- set extra_types = warehouse_ml.raw_extra_column_types(source_names, raw_path) -%}
    {%- set registered = [] -%}
    {%- set extras = [] -%}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') if node.source_name in source_names -%}
        {%- set columns = [] -%}
        {%- for column in node.columns.values() -%}
            {%- if not column.data_type -%}
                {{ exceptions.raise_compiler_error("register_raw_sources: source " ~ node.source_name ~ "." ~ node.name ~ ", column '" ~ column.name ~ "' has no data_type; declare it in the sources yml (it is the contract).") }}
            {%- endif -%}
            {%- do columns.append('`' ~ column.name ~ '` ' ~ warehouse_ml.spark_raw_type(column.data_type)) -%}
        {%- endfor -%}
        {%- for column, spark_type in extra_types.get(node.source_name ~ '.' ~ node.name, {}).items() | sort -%}
            {%- do columns.append('`' ~ column ~ '` ' ~ spark_type) -%}
            {%- do extras.append(node.source_name ~ '.' ~ node.name ~ '.' ~ column ~ ' ' ~ spark_type) -%}
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
            location {{ warehouse_ml.sql_string_literal(raw_path ~ "/" ~ node.identifier) }}
        {%- endcall -%}
        {%- do registered.append(relation | string) -%}
    {%- endfor -%}
    {%- if registered | length == 0 -%}
        {{ exceptions.raise_compiler_error("register_raw_sources: no tables found in sources " ~ source_names ~ "; check the names against models/staging/*/_*__sources.yml") }}
    {%- endif -%}
    {{ log("register_raw_sources: " ~ registered | length ~ " raw tables over Parquet under '" ~ raw_path ~ "': " ~ registered | join(', ')
        ~ ('; extra columns: ' ~ extras | join(', ') if extras else ''), info=true) }}
    {{ return('') }}
{%- endmacro %}

{% macro duckdb__register_raw_sources(source_names) -%}
    {{ return('') }}
{%- endmacro %}


{#- spark_raw_type(data_type): the Spark SQL type of a declared contract type. -#}
{% macro spark_raw_type(data_type) -%}
    {%- set type_lower = data_type | string | lower | trim -%}
    {%- if type_lower in ['varchar', 'text', 'char', 'bpchar'] -%}
        {{ return('string') }}
    {%- endif -%}
    {{ return(type_lower) }}
{%- endmacro %}


{#- raw_extra_column_types(source_names, raw_path): {'<source>.<table>': {column: spark type}} of the extra-columns vars. -#}
{% macro raw_extra_column_types(source_names, raw_path) -%}
    {%- set contract = warehouse_ml.raw_contract(source_names) -%}
    {%- set roles_by_table = {} -%}
    {%- for table in contract.tables if table.extra_columns is mapping and table.extra_columns | length > 0 -%}
        {%- do roles_by_table.update({table.source ~ '.' ~ table.name: table.extra_columns}) -%}
    {%- endfor -%}
    {%- if roles_by_table | length == 0 -%}
        {{ return({}) }}
    {%- endif -%}
    {%- if warehouse_ml.raw_contract_functions_exist() -%}
        {#- The type the files hold (a categorical column may be stored as integers). -#}
        {%- set result = run_query("select warehouse_ml_raw_column_types(" ~ warehouse_ml.sql_string_literal(raw_path) ~ ", "
            ~ warehouse_ml.sql_string_literal(tojson(contract)) ~ ") as column_types") -%}
        {{ return(fromjson(result.columns[0].values()[0])) }}
    {%- endif -%}
    {#- Without the functions (a Thrift server): the type from the role (numeric double, categorical string). -#}
    {%- set types = {} -%}
    {%- for table_name, roles in roles_by_table.items() -%}
        {%- set table_types = {} -%}
        {%- for column, role in roles.items() -%}
            {%- do table_types.update({column: 'double' if role == 'numeric' else 'string'}) -%}
        {%- endfor -%}
        {%- do types.update({table_name: table_types}) -%}
    {%- endfor -%}
    {{ return(types) }}
{%- endmacro %}
