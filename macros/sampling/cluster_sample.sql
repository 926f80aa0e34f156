{#- cluster_sample(relation, cluster_key, fraction, seed, mode='native'): samples whole clusters (e.g. customers)
    by a seeded hash of `cluster_key` and keeps every row of a sampled cluster. Adds
    `inclusion_probability` (= fraction, the chance a cluster is drawn) and `sample_weight` (= 1 / fraction).
    Use it when rows are summarised per cluster (customer features from transactions): sampling single
    rows would thin every cluster and bias its features. -#}
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
