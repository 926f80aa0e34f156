{#- hash_sample(relation, key_columns, fraction, seed, mode='native'): the rows whose seeded hash of the keys is below fraction (see _sampling__macros.yml). -#}
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
