{#- ml_scoring_query(registry, model_name, population, aliases): the champion's compiled scoring query over `population`. -#}
{% macro ml_scoring_query(registry, model_name, population, aliases) -%}
    {%- set placeholder = {'sql': 'select * from ' ~ population, 'model_version': 'unknown'} -%}
    {%- if not execute -%}
        {{ return(placeholder) }}
    {%- endif -%}
    {%- if load_relation(registry) is none or load_relation(aliases) is none -%}
        {%- if flags.WHICH in ('run', 'build') -%}
            {{ exceptions.raise_compiler_error("ml_scoring_query: " ~ registry ~ " or " ~ aliases ~ " does not exist; build the training model, ml_model_decisions and ml_model_aliases first") }}
        {%- endif -%}
        {#- dbt compile / docs generate before the first build: nothing to look up yet. -#}
        {{ return(placeholder) }}
    {%- endif -%}
    {%- set column = 'scoring_sql_spark' if target.type == 'spark' else 'scoring_sql_duckdb' -%}
    {%- set lookup -%}
        select champions.model_version, registered.{{ column }} as scoring_sql
        from {{ aliases }} as champions
        left join {{ registry }} as registered
            on champions.model_name = registered.model_name
            and champions.model_version = registered.model_version
        where champions.model_name = {{ warehouse_ml.sql_string_literal(model_name) }}
            and champions.alias = 'champion'
    {%- endset -%}
    {%- set rows = run_query(lookup).rows -%}
    {%- if rows | length != 1 or rows[0][0] is none -%}
        {{ exceptions.raise_compiler_error("ml_scoring_query: " ~ aliases ~ " has no champion for model '" ~ model_name ~ "'; build its training model and ml_model_decisions first") }}
    {%- endif -%}
    {%- if rows[0][1] is none -%}
        {{ exceptions.raise_compiler_error("ml_scoring_query: model '" ~ model_name ~ "' version '" ~ rows[0][0] ~ "' has no compiled SQL in " ~ registry ~ " (only linear models compile); score it with the Python model") }}
    {%- endif -%}
    {{ return({'sql': rows[0][1] | replace('__population__', population), 'model_version': rows[0][0]}) }}
{%- endmacro %}
