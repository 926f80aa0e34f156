{#- ml_scoring_query(registry, model_name, population, version): the registered model's compiled
    scoring query (DuckDB or Spark, by target) over `population`, and its model_version. -#}
{% macro ml_scoring_query(registry, model_name, population, version=none) -%}
    {%- set version = none if version in (none, '', 'None', 'none', 'null') else version -%}
    {%- set placeholder = {'sql': 'select * from ' ~ population, 'model_version': 'unknown'} -%}
    {%- if not execute -%}
        {{ return(placeholder) }}
    {%- endif -%}
    {%- if load_relation(registry) is none -%}
        {%- if flags.WHICH in ('run', 'build') -%}
            {{ exceptions.raise_compiler_error("ml_scoring_query: registry " ~ registry ~ " does not exist; build the training model first") }}
        {%- endif -%}
        {#- dbt compile / docs generate before the first build: nothing to look up yet. -#}
        {{ return(placeholder) }}
    {%- endif -%}
    {%- set column = 'scoring_sql_spark' if target.type == 'spark' else 'scoring_sql_duckdb' -%}
    {%- set lookup -%}
        select model_version, {{ column }} as scoring_sql
        from {{ registry }}
        where model_name = '{{ model_name }}'
        {%- if version is not none %}
            and model_version = '{{ version }}'
        {%- endif %}
        order by trained_at desc, model_version desc
        limit 1
    {%- endset -%}
    {%- set rows = run_query(lookup).rows -%}
    {%- if rows | length == 0 and version is not none -%}
        {{ exceptions.raise_compiler_error("ml_scoring_query: model '" ~ model_name ~ "' has no version '" ~ version ~ "' in " ~ registry ~ "; fix the pinned version var or unset it to use the newest") }}
    {%- elif rows | length == 0 -%}
        {{ exceptions.raise_compiler_error("ml_scoring_query: model '" ~ model_name ~ "' has no registered version in " ~ registry ~ "; build its training model first") }}
    {%- endif -%}
    {%- if rows[0][1] is none -%}
        {{ exceptions.raise_compiler_error("ml_scoring_query: model '" ~ model_name ~ "' version '" ~ rows[0][0] ~ "' has no compiled SQL (only linear models compile); score it with the Python model") }}
    {%- endif -%}
    {{ return({'sql': rows[0][1] | replace('__population__', population), 'model_version': rows[0][0]}) }}
{%- endmacro %}
