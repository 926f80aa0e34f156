{#- validate_raw_sources(source_names): the raw data contract check, run as an on-run-start hook.
    For every table of the named sources it checks, before any model runs, that
    <raw_data_path>/<table>/ holds Parquet files and that each file has every declared column with a
    type of the declared family (integer, floating point, timestamp, text). It reads file schemas only.
    All problems are gathered and raised as one compiler error that names the file, the column, what
    was found, what is expected and the fix. -#}
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

    {%- set raw_path = (var('raw_data_path') | string).rstrip('/') -%}
    {%- set contract_doc = 'docs/raw_data_contract.md' -%}

    {#- The tables to check: every table of the named sources, in a stable order. -#}
    {%- set tables = [] -%}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
        {%- if node.source_name in source_names -%}
            {%- do tables.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if tables | length == 0 -%}
        {{ exceptions.raise_compiler_error("validate_raw_sources: no tables found in sources " ~ source_names ~ "; check the names against models/staging/*/_*__sources.yml") }}
    {%- endif -%}

    {#- 1. Which Parquet files are there (one glob for all tables). -#}
    {%- set glob_sql -%}
        select file from glob('{{ warehouse_ml.raw_sql_string(raw_path ~ "/*/*.parquet") }}') order by file
    {%- endset -%}
    {%- set all_files = run_query(glob_sql).columns[0].values() -%}
    {%- if all_files | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "Raw data not found: raw_data_path '" ~ raw_path ~ "' does not exist or holds no Parquet files"
            ~ " (expected <raw_data_path>/<table>/*.parquet for the tables "
            ~ tables | map(attribute='identifier') | join(', ') ~ ")."
            ~ "\nFix: generate data there (warehouse-ml generate --out " ~ raw_path ~ ") or point the raw_data_path var"
            ~ " at your raw folder, e.g. --vars '{raw_data_path: /path/to/raw}'. See " ~ contract_doc ~ "."
        ) }}
    {%- endif -%}

    {%- set problems = [] -%}
    {%- set files_by_table = {} -%}
    {%- for node in tables -%}
        {%- set folder = raw_path ~ '/' ~ node.identifier ~ '/' -%}
        {%- set table_files = [] -%}
        {%- for file in all_files -%}
            {%- if file.startswith(folder) -%}
                {%- do table_files.append(file) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do files_by_table.update({node.unique_id: table_files}) -%}
        {%- if table_files | length == 0 -%}
            {%- do problems.append(folder ~ ": no Parquet files (expected " ~ folder ~ "*.parquet for source table "
                ~ node.source_name ~ "." ~ node.name ~ "). Fix: write the " ~ node.identifier ~ " table there as Parquet.") -%}
        {%- endif -%}
    {%- endfor -%}

    {#- 2. The schema of every file, in one query (Parquet metadata only, no data is scanned). -#}
    {%- set described = [] -%}
    {%- for node in tables -%}
        {%- for file in files_by_table[node.unique_id] -%}
            {%- do described.append(
                "select '" ~ warehouse_ml.raw_sql_string(file) ~ "' as file_path, column_name, column_type"
                ~ " from (describe select * from read_parquet('" ~ warehouse_ml.raw_sql_string(file) ~ "'))"
            ) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set found = {} -%}
    {%- if described | length > 0 -%}
        {%- set schema_rows = run_query(described | join('\nunion all\n')) -%}
        {%- for row in schema_rows.rows -%}
            {%- if row['file_path'] not in found -%}
                {%- do found.update({row['file_path']: {}}) -%}
            {%- endif -%}
            {%- do found[row['file_path']].update({row['column_name'] | lower: row['column_type']}) -%}
        {%- endfor -%}
    {%- endif -%}

    {#- 3. Every declared column, in every file, with a type of the declared family. -#}
    {%- for node in tables -%}
        {%- for column in node.columns.values() -%}
            {%- if not column.data_type -%}
                {%- do problems.append("source " ~ node.source_name ~ "." ~ node.name ~ ", column '" ~ column.name
                    ~ "': no data_type declared. Fix: declare it in the source's yml (it is the contract).") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for file in files_by_table[node.unique_id] -%}
            {%- set file_columns = found.get(file, {}) -%}
            {%- for column in node.columns.values() if column.data_type -%}
                {%- set expected = column.data_type | upper -%}
                {%- set expected_family = warehouse_ml.raw_type_family(expected) -%}
                {%- set actual = file_columns.get(column.name | lower) -%}
                {%- if actual is none -%}
                    {%- do problems.append(file ~ ": column '" ~ column.name ~ "' is missing, expected "
                        ~ expected ~ " (" ~ expected_family ~ "). Fix: add the column '" ~ column.name ~ "' to the file.") -%}
                {%- elif warehouse_ml.raw_type_family(actual) != expected_family -%}
                    {%- do problems.append(file ~ ": column '" ~ column.name ~ "' is " ~ actual ~ " ("
                        ~ warehouse_ml.raw_type_family(actual) ~ "), expected " ~ expected ~ " (" ~ expected_family
                        ~ "). Fix: write '" ~ column.name ~ "' as " ~ expected ~ " (any type of the " ~ expected_family
                        ~ " family is accepted).") -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}

    {%- if problems | length > 0 -%}
        {{ exceptions.raise_compiler_error(
            "Raw data does not match the contract; nothing was built. "
            ~ problems | length ~ " problem(s) under raw_data_path '" ~ raw_path ~ "':\n  - "
            ~ problems | join("\n  - ")
            ~ "\nSee " ~ contract_doc ~ " for the tables, columns and types the pipeline reads."
        ) }}
    {%- endif -%}
    {{ log("validate_raw_sources: " ~ all_files | length ~ " Parquet file(s) of " ~ tables | length
        ~ " raw tables match the contract (raw_data_path '" ~ raw_path ~ "').", info=true) }}
    {{ return('') }}
{%- endmacro %}


{#- raw_type_family(type_name): the family of a column type, as the contract compares them:
    integer, floating point, timestamp or text; any other type is its own family (lowercased). -#}
{% macro raw_type_family(type_name) -%}
    {%- set type_upper = (type_name | string | upper | trim).split('(')[0] | trim -%}
    {%- if type_upper in ['TINYINT', 'SMALLINT', 'INTEGER', 'INT', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT',
                          'UINTEGER', 'UBIGINT', 'UHUGEINT', 'INT1', 'INT2', 'INT4', 'INT8', 'LONG', 'SHORT', 'BYTE'] -%}
        {{ return('integer') }}
    {%- elif type_upper in ['DOUBLE', 'FLOAT', 'REAL', 'FLOAT4', 'FLOAT8'] -%}
        {{ return('floating point') }}
    {%- elif type_upper in ['TIMESTAMP', 'TIMESTAMP_NS', 'TIMESTAMP_MS', 'TIMESTAMP_S', 'TIMESTAMP_US', 'DATETIME', 'TIMESTAMP_NTZ'] -%}
        {{ return('timestamp') }}
    {%- elif type_upper in ['VARCHAR', 'STRING', 'TEXT', 'CHAR', 'BPCHAR'] -%}
        {{ return('text') }}
    {%- else -%}
        {{ return(type_name | string | lower) }}
    {%- endif -%}
{%- endmacro %}


{#- raw_sql_string(value): `value` escaped for use inside a single-quoted SQL string literal. -#}
{% macro raw_sql_string(value) -%}
    {{ return(value | string | replace("'", "''")) }}
{%- endmacro %}


{#- spark__validate_raw_sources: the same contract check on Spark, one folder at a time, from the
    schema Spark infers over all Parquet files of the folder (schema merging on, so files whose
    types conflict stop the run). Differences from duckdb__: a column missing from some files but
    present in others is read as null instead of being reported, and a missing folder fails with
    Spark's PATH_NOT_FOUND error naming the path. -#}
{% macro spark__validate_raw_sources(source_names) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set raw_path = (var('raw_data_path') | string).rstrip('/') -%}
    {%- set tables = [] -%}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') if node.source_name in source_names -%}
        {%- do tables.append(node) -%}
    {%- endfor -%}
    {%- if tables | length == 0 -%}
        {{ exceptions.raise_compiler_error("validate_raw_sources: no tables found in sources " ~ source_names ~ "; check the names against models/staging/*/_*__sources.yml") }}
    {%- endif -%}

    {%- set problems = [] -%}
    {%- do run_query("set spark.sql.parquet.mergeSchema=true") -%}
    {%- for node in tables -%}
        {%- set folder = raw_path ~ '/' ~ node.identifier -%}
        {%- set described = run_query("describe query select * from parquet.`" ~ folder | replace('`', '``') ~ "`") -%}
        {%- set file_columns = {} -%}
        {%- for row in described.rows -%}
            {%- do file_columns.update({row['col_name'] | lower: row['data_type']}) -%}
        {%- endfor -%}
        {%- for column in node.columns.values() -%}
            {%- set expected = (column.data_type or '') | upper -%}
            {%- set expected_family = warehouse_ml.raw_type_family(expected) -%}
            {%- set actual = file_columns.get(column.name | lower) -%}
            {%- if not column.data_type -%}
                {%- do problems.append("source " ~ node.source_name ~ "." ~ node.name ~ ", column '" ~ column.name
                    ~ "': no data_type declared. Fix: declare it in the source's yml (it is the contract).") -%}
            {%- elif actual is none -%}
                {%- do problems.append(folder ~ "/*.parquet: column '" ~ column.name ~ "' is missing, expected "
                    ~ expected ~ " (" ~ expected_family ~ "). Fix: add the column '" ~ column.name ~ "' to the files.") -%}
            {%- elif warehouse_ml.raw_type_family(actual) != expected_family -%}
                {%- do problems.append(folder ~ "/*.parquet: column '" ~ column.name ~ "' is " ~ actual ~ " ("
                    ~ warehouse_ml.raw_type_family(actual) ~ "), expected " ~ expected ~ " (" ~ expected_family
                    ~ "). Fix: write '" ~ column.name ~ "' as " ~ expected ~ " (any type of the " ~ expected_family
                    ~ " family is accepted).") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do run_query("set spark.sql.parquet.mergeSchema=false") -%}

    {%- if problems | length > 0 -%}
        {{ exceptions.raise_compiler_error(
            "Raw data does not match the contract; nothing was built. "
            ~ problems | length ~ " problem(s) under raw_data_path '" ~ raw_path ~ "':\n  - "
            ~ problems | join("\n  - ")
            ~ "\nSee docs/raw_data_contract.md for the tables, columns and types the pipeline reads."
        ) }}
    {%- endif -%}
    {{ log("validate_raw_sources: " ~ tables | length ~ " raw tables match the contract on Spark (raw_data_path '" ~ raw_path ~ "').", info=true) }}
    {{ return('') }}
{%- endmacro %}
