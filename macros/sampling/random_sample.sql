{#- random_sample(relation, fraction=none, percent=none, method='bernoulli', seed=none): the engine's TABLESAMPLE, and its traps (see _sampling__macros.yml). -#}
{% macro random_sample(relation, fraction=none, percent=none, method='bernoulli', seed=none) -%}
    {%- if (fraction is none) == (percent is none) -%}
        {{ exceptions.raise_compiler_error("random_sample: give exactly one of `fraction` (0, 1] or `percent` (0, 100], got fraction=" ~ (fraction | string) ~ ", percent=" ~ (percent | string) ~ ".") }}
    {%- endif -%}
    {%- if percent is not none -%}
        {%- if percent is boolean or percent is not number or percent <= 0 or percent > 100 -%}
            {{ exceptions.raise_compiler_error("random_sample: argument `percent` must be a number in (0, 100], got " ~ (percent | string) ~ ".") }}
        {%- endif -%}
        {%- set fraction = percent / 100.0 -%}
    {%- endif -%}
    {%- set fraction = warehouse_ml._sampling_check_fraction('random_sample', 'fraction', fraction) -%}
    {%- set method = warehouse_ml._sampling_check_choice('random_sample', 'method', method, ['bernoulli', 'system', 'reservoir']) -%}
    {%- set seed = warehouse_ml._sampling_check_seed('random_sample', seed, allow_none=true) -%}
    {%- set percent_literal = '%.6f' | format(fraction * 100) -%}
    {{ return(adapter.dispatch('random_sample', 'warehouse_ml')(relation, percent_literal, method, seed)) }}
{%- endmacro %}

{#- Spark SQL: row-level Bernoulli per partition; `repeatable` takes a non-negative integer. -#}
{% macro default__random_sample(relation, percent_literal, method, seed) -%}
    {%- if method != 'bernoulli' -%}
        {{ exceptions.raise_compiler_error("random_sample: argument `method` must be 'bernoulli' on " ~ target.type ~ " (TABLESAMPLE (p PERCENT) is its only row sampler), got '" ~ method ~ "'.") }}
    {%- endif %}
    select *
    from {{ relation }} tablesample ({{ percent_literal }} percent)
    {%- if seed is not none %} repeatable ({{ seed }}){% endif %}
{%- endmacro %}

{% macro duckdb__random_sample(relation, percent_literal, method, seed) -%}
    select *
    from {{ relation }}
    using sample {{ method }} ({{ percent_literal }} percent)
    {%- if seed is not none %} repeatable ({{ seed }}){% endif %}
{%- endmacro %}

{% macro snowflake__random_sample(relation, percent_literal, method, seed) -%}
    {%- if method == 'reservoir' -%}
        {{ exceptions.raise_compiler_error("random_sample: argument `method` must be 'bernoulli' or 'system' on snowflake, got 'reservoir'.") }}
    {%- endif %}
    select *
    from {{ relation }} sample {{ method }} ({{ percent_literal }})
    {%- if seed is not none %} seed ({{ seed }}){% endif %}
{%- endmacro %}

{% macro bigquery__random_sample(relation, percent_literal, method, seed) -%}
    {%- if method != 'system' -%}
        {{ exceptions.raise_compiler_error("random_sample: argument `method` must be 'system' on bigquery (TABLESAMPLE SYSTEM is its only sampler), got '" ~ method ~ "'.") }}
    {%- endif -%}
    {%- if seed is not none and execute -%}
        {%- do exceptions.warn("random_sample: bigquery TABLESAMPLE has no seed; seed=" ~ seed ~ " is ignored and the sample changes on every run. Use hash_sample for a reproducible sample.") -%}
    {%- endif %}
    select *
    from {{ relation }} tablesample system ({{ percent_literal }} percent)
{%- endmacro %}

{% macro trino__random_sample(relation, percent_literal, method, seed) -%}
    {%- if method == 'reservoir' -%}
        {{ exceptions.raise_compiler_error("random_sample: argument `method` must be 'bernoulli' or 'system' on trino, got 'reservoir'.") }}
    {%- endif -%}
    {%- if seed is not none and execute -%}
        {%- do exceptions.warn("random_sample: trino TABLESAMPLE has no seed; seed=" ~ seed ~ " is ignored and the sample changes on every run. Use hash_sample for a reproducible sample.") -%}
    {%- endif %}
    select *
    from {{ relation }} tablesample {{ method }} ({{ percent_literal }})
{%- endmacro %}
