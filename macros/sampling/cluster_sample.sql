{#- cluster_sample(relation, cluster_key, fraction, seed, mode='native'): every row of a seeded-hash share of clusters (see _sampling__macros.yml). -#}
{% macro cluster_sample(relation, cluster_key, fraction, seed, mode='native') -%}
    {%- set cluster_key = warehouse_ml._sampling_check_columns('cluster_sample', 'cluster_key', cluster_key, relation) -%}
    {%- set fraction = warehouse_ml._sampling_check_fraction('cluster_sample', 'fraction', fraction) -%}
    {%- set seed = warehouse_ml._sampling_check_seed('cluster_sample', seed) -%}
    {%- set mode = warehouse_ml._sampling_check_choice('cluster_sample', 'mode', mode, ['native', 'portable']) -%}
    {{ return(adapter.dispatch('cluster_sample', 'warehouse_ml')(relation, cluster_key, fraction, seed, mode)) }}
{%- endmacro %}

{% macro default__cluster_sample(relation, cluster_key, fraction, seed, mode) -%}
    select
        *,
        cast({{ fraction }} as double) as inclusion_probability,
        cast(1 as double) / cast({{ fraction }} as double) as sample_weight
    from {{ relation }}
    where {{ warehouse_ml.seeded_uniform(cluster_key, seed, mode) }} < {{ fraction }}
{%- endmacro %}
