{#- stratified_sample(relation, strata, key_columns, seed, ...): a seeded-hash sample within every stratum (docs in _sampling__macros.yml). -#}
{% macro stratified_sample(relation, strata, key_columns, seed, fraction=none, allocation='proportional', sample_size=none, min_per_stratum=0, exact=false, mode='native') -%}
    {%- set name = 'stratified_sample' -%}
    {%- set strata = warehouse_ml._sampling_check_columns(name, 'strata', strata, relation) -%}
    {%- set key_columns = warehouse_ml._sampling_check_columns(name, 'key_columns', key_columns, relation) -%}
    {%- set seed = warehouse_ml._sampling_check_seed(name, seed) -%}
    {%- set mode = warehouse_ml._sampling_check_choice(name, 'mode', mode, ['native', 'portable']) -%}
    {%- if fraction is not none -%}
        {%- set fraction = warehouse_ml._sampling_check_fraction(name, 'fraction', fraction) -%}
    {%- endif -%}
    {%- do warehouse_ml._sampling_check_whole_number(name, 'sample_size', sample_size, 1, allow_none=true) -%}
    {%- set min_per_stratum = warehouse_ml._sampling_check_whole_number(name, 'min_per_stratum', min_per_stratum, 0) -%}
    {%- if exact is not boolean -%}
        {{ exceptions.raise_compiler_error(name ~ ": argument `exact` must be true or false, got " ~ (exact | string) ~ ".") }}
    {%- endif -%}
    {%- set allocation = warehouse_ml._stratified_sample_check_allocation(allocation, fraction, sample_size) -%}
    {{ return(adapter.dispatch('stratified_sample', 'warehouse_ml')(relation, strata, key_columns, seed, fraction, allocation, sample_size, min_per_stratum, exact, mode)) }}
{%- endmacro %}

{% macro default__stratified_sample(relation, strata, key_columns, seed, fraction, allocation, sample_size, min_per_stratum, exact, mode) -%}
    {%- set src_keys = [] -%}
    {%- for column in key_columns -%}{%- do src_keys.append('src.' ~ column) -%}{%- endfor -%}
    {%- set uniform = warehouse_ml.seeded_uniform(src_keys, seed, mode) -%}
    {%- set join_on -%}
        {%- for column in strata %}{{ ' and ' if not loop.first }}src.{{ column }} is not distinct from allocation.{{ column }}{% endfor -%}
    {%- endset -%}

    {%- if allocation == 'proportional' and fraction is not none and min_per_stratum == 0 and not exact -%}
    {{ warehouse_ml._stratified_sample_single_pass(relation, fraction, uniform) }}
    {%- else %}
    with

    {{ warehouse_ml._stratified_sample_target_ctes(relation, strata, fraction, allocation, sample_size) }}

    {{ warehouse_ml._stratified_sample_allocation_cte(strata, min_per_stratum, exact) }}
    {%- if exact %}

    {{ warehouse_ml._stratified_sample_exact_ctes(relation, strata, uniform, join_on) }}
    {%- endif %}

    {{ warehouse_ml._stratified_sample_sampled_cte(relation, uniform, join_on, exact) }}

    select * from _ss_sampled
    {%- endif %}
{%- endmacro %}
