{#- hash_sample(relation, key_columns, fraction, seed, mode='native'): a select of the rows of `relation`
    whose seeded hash of `key_columns` falls below `fraction`. Deterministic by key and seed: the same
    rows at every thread count and in every physical order; different seeds give independent samples.
    Rows with equal keys are kept or dropped together. mode='portable' keeps the same rows on DuckDB
    and Spark (see seeded_uniform). -#}
{% macro hash_sample(relation, key_columns, fraction, seed, mode='native') -%}
    {%- set key_columns = warehouse_ml._sampling_check_columns('hash_sample', 'key_columns', key_columns, relation) -%}
    {%- set fraction = warehouse_ml._sampling_check_fraction('hash_sample', 'fraction', fraction) -%}
    {%- set seed = warehouse_ml._sampling_check_seed('hash_sample', seed) -%}
    {%- set mode = warehouse_ml._sampling_check_choice('hash_sample', 'mode', mode, ['native', 'portable']) -%}
    {{ return(adapter.dispatch('hash_sample', 'warehouse_ml')(relation, key_columns, fraction, seed, mode)) }}
{%- endmacro %}

{% macro default__hash_sample(relation, key_columns, fraction, seed, mode) -%}
    select *
    from {{ relation }}
    where {{ warehouse_ml.seeded_uniform(key_columns, seed, mode) }} < {{ fraction }}
{%- endmacro %}
