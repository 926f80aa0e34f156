{#- validate_raw_sources(source_names): the raw data contract check hook (docs in _raw__macros.yml). -#}
{% macro validate_raw_sources(source_names) -%}
    {%- if source_names is string or source_names | length == 0 -%}
        {{ exceptions.raise_compiler_error("validate_raw_sources: source_names must be a non-empty list of source names, got " ~ source_names) }}
    {%- endif -%}
    {{ return(adapter.dispatch('validate_raw_sources', 'warehouse_ml')(source_names)) }}
{%- endmacro %}

{% macro default__validate_raw_sources(source_names) -%}
    {%- if execute -%}
        {{ log("validate_raw_sources: the raw contract check runs on DuckDB and Spark only; skipped on " ~ target.type ~ ".", info=true) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{% macro duckdb__validate_raw_sources(source_names) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- if not warehouse_ml.raw_contract_functions_exist() -%}
        {{ exceptions.raise_compiler_error("validate_raw_sources: the DuckDB connection has no function warehouse_ml_check_raw_contract. Fix: add `plugins: [{module: warehouse_ml.duckdb_plugin}]` to the " ~ target.name ~ " output in profiles.yml.") }}
    {%- endif -%}
    {{ return(warehouse_ml.run_raw_contract_check(source_names)) }}
{%- endmacro %}

{% macro spark__validate_raw_sources(source_names) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- if not warehouse_ml.raw_contract_functions_exist() -%}
        {{ log("validate_raw_sources: skipped, this Spark connection has no function warehouse_ml_check_raw_contract (a Thrift server reads files dbt cannot see; with the session method run dbt through python -m warehouse_ml.spark.dbt_session).", info=true) }}
        {{ return('') }}
    {%- endif -%}
    {{ return(warehouse_ml.run_raw_contract_check(source_names)) }}
{%- endmacro %}


{#- raw_contract_functions_exist(): true when the connection has warehouse_ml_check_raw_contract (plugin or launcher). -#}
{% macro raw_contract_functions_exist() -%}
    {{ return(adapter.dispatch('raw_contract_functions_exist', 'warehouse_ml')()) }}
{%- endmacro %}

{% macro default__raw_contract_functions_exist() -%}
    {{ return(run_query("show functions like 'warehouse_ml_check_raw_contract'").rows | length > 0) }}
{%- endmacro %}

{% macro duckdb__raw_contract_functions_exist() -%}
    {{ return(run_query("select count(*) from duckdb_functions() where function_name = 'warehouse_ml_check_raw_contract'").columns[0].values()[0] > 0) }}
{%- endmacro %}


{#- run_raw_contract_check(source_names): calls the engine's warehouse_ml_check_raw_contract and raises its message. -#}
{% macro run_raw_contract_check(source_names) -%}
    {%- set raw_path = warehouse_ml.checked_var('raw_data_path') -%}
    {%- set contract = warehouse_ml.raw_contract(source_names) -%}
    {%- set result = run_query("select warehouse_ml_check_raw_contract(" ~ warehouse_ml.sql_string_literal(raw_path) ~ ", "
        ~ warehouse_ml.sql_string_literal(tojson(contract)) ~ ") as message") -%}
    {%- set message = result.columns[0].values()[0] -%}
    {%- if message -%}
        {{ exceptions.raise_compiler_error(message) }}
    {%- endif -%}
    {{ log("validate_raw_sources: " ~ contract.tables | length ~ " raw tables match the contract (raw_data_path '" ~ raw_path ~ "').", info=true) }}
    {{ return('') }}
{%- endmacro %}


{#- raw_contract(source_names): the contract of the named sources' tables, as the Python check reads it. -#}
{% macro raw_contract(source_names) -%}
    {%- set extra_vars = warehouse_ml.raw_extra_column_vars() -%}
    {%- set tables = [] -%}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') if node.source_name in source_names -%}
        {%- set columns = [] -%}
        {%- for column in node.columns.values() -%}
            {%- do columns.append({'name': column.name, 'data_type': column.data_type}) -%}
        {%- endfor -%}
        {%- set extra_var = extra_vars.get(node.source_name ~ '.' ~ node.name) -%}
        {%- do tables.append({
            'source': node.source_name,
            'name': node.name,
            'identifier': node.identifier,
            'columns': columns,
            'extra_columns_var': extra_var,
            'extra_columns': var(extra_var, none) if extra_var else none,
        }) -%}
    {%- endfor -%}
    {%- if tables | length == 0 -%}
        {{ exceptions.raise_compiler_error("validate_raw_sources: no tables found in sources " ~ source_names ~ "; check the names against models/staging/*/_*__sources.yml") }}
    {%- endif -%}
    {{ return({'tables': tables}) }}
{%- endmacro %}


{#- raw_extra_column_vars(): which var lists the extra (user) columns of which source table. -#}
{% macro raw_extra_column_vars() -%}
    {{ return({'shop.customers': 'extra_customer_columns', 'ads.impressions': 'extra_impression_columns'}) }}
{%- endmacro %}
