{#- ml_scoring_query(registry, model_name, population, aliases): the champion's compiled scoring query over `population`, after its registry row verifies (warehouse_ml_registry_row_problem). -#}
{% macro ml_scoring_query(registry, model_name, population, aliases) -%}
    {%- set placeholder = {'sql': 'select * from ' ~ population, 'model_version': 'unknown'} -%}
    {%- if not execute -%}
        {{ return(placeholder) }}
    {%- endif -%}
    {%- if flags.EMPTY is true -%}
        {#- dbt build --empty: no champion to look up; the compiled query's columns (the population's and
            probability) over the population, which has no rows. -#}
        {{ return({'sql': 'select *, cast(null as double) as probability from ' ~ population, 'model_version': 'unknown'}) }}
    {%- endif -%}
    {%- if load_relation(registry) is none or load_relation(aliases) is none -%}
        {%- if flags.WHICH in ('run', 'build') -%}
            {{ exceptions.raise_compiler_error("ml_scoring_query: " ~ registry ~ " or " ~ aliases ~ " does not exist; build the training model, ml_model_decisions and ml_model_aliases first") }}
        {%- endif -%}
        {#- dbt compile / docs generate before the first build: nothing to look up yet. -#}
        {{ return(placeholder) }}
    {%- endif -%}
    {%- set column = 'scoring_sql_spark' if target.type == 'spark' else 'scoring_sql_duckdb' -%}
    {#- Verification: the row's integrity hash (and signature, with WAREHOUSE_ML_REGISTRY_KEY set) is checked by registry.verify_row through the SQL function before its SQL is used. -#}
    {%- set registry_columns = adapter.get_columns_in_relation(registry) | map(attribute='name') | map('lower') | list -%}
    {%- if 'integrity_sha256' not in registry_columns -%}
        {{ exceptions.raise_compiler_error("ml_scoring_query: " ~ registry ~ " has no integrity_sha256 column (registered before rows were hashed), so model '" ~ model_name ~ "' cannot be verified; retrain or re-import it (build " ~ registry.identifier ~ " first)") }}
    {%- endif -%}
    {%- set lookup -%}
        select
            champions.model_version,
            registered.{{ column }} as scoring_sql,
            case when registered.model_name is not null then warehouse_ml_registry_row_problem(
                registered.model_name,
                registered.model_version,
                registered.artifact_format,
                registered.artifact_sha256,
                registered.features,
                registered.label,
                registered.negative_downsampling_rate,
                registered.scoring_sql_duckdb,
                registered.scoring_sql_spark,
                registered.code_version,
                registered.integrity_sha256,
                registered.signature
            ) end as registry_row_problem
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
    {%- if rows[0][2] is not none -%}
        {{ exceptions.raise_compiler_error("ml_scoring_query: refusing to score with model '" ~ model_name ~ "' version '" ~ rows[0][0] ~ "' of " ~ registry ~ ": " ~ rows[0][2]) }}
    {%- endif -%}
    {%- if rows[0][1] is none -%}
        {{ exceptions.raise_compiler_error("ml_scoring_query: model '" ~ model_name ~ "' version '" ~ rows[0][0] ~ "' has no compiled SQL in " ~ registry ~ " (only linear models compile); score it with the Python model") }}
    {%- endif -%}
    {{ return({'sql': rows[0][1] | replace('__population__', population), 'model_version': rows[0][0]}) }}
{%- endmacro %}
