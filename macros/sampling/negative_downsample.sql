{#- negative_downsample(relation, label_column, negative_rate, key_columns, seed, mode='native', fraction=1):
    keeps every positive row (label 1 / true) and a seeded-hash share `negative_rate` of the negative rows
    (label 0 / false / null). Adds `inclusion_probability` and `sample_weight` (its inverse), so a model
    trained on the result can be recalibrated: p = q / (q + (1 - q) / negative_rate) for a predicted q.
    With fraction < 1 it is a random (hash) sample of `fraction` followed by the downsampling, in one pass:
    positives are kept at `fraction`, negatives at fraction * negative_rate, both decided by the same seeded
    value, so the result is nested in hash_sample(relation, key_columns, fraction, seed, mode). -#}
{% macro negative_downsample(relation, label_column, negative_rate, key_columns, seed, mode='native', fraction=1) -%}
    {%- set name = 'negative_downsample' -%}
    {%- set label_columns = warehouse_ml._sampling_check_columns(name, 'label_column', label_column, relation) -%}
    {%- if label_columns | length != 1 -%}
        {{ exceptions.raise_compiler_error(name ~ ": argument `label_column` must be one column name, got " ~ (label_column | string) ~ ".") }}
    {%- endif -%}
    {%- set negative_rate = warehouse_ml._sampling_check_fraction(name, 'negative_rate', negative_rate) -%}
    {%- set fraction = warehouse_ml._sampling_check_fraction(name, 'fraction', fraction) -%}
    {%- set key_columns = warehouse_ml._sampling_check_columns(name, 'key_columns', key_columns, relation) -%}
    {%- set seed = warehouse_ml._sampling_check_seed(name, seed) -%}
    {%- set mode = warehouse_ml._sampling_check_choice(name, 'mode', mode, ['native', 'portable']) -%}
    {{ return(adapter.dispatch('negative_downsample', 'warehouse_ml')(relation, label_columns[0], negative_rate, key_columns, seed, mode, fraction)) }}
{%- endmacro %}

{% macro default__negative_downsample(relation, label_column, negative_rate, key_columns, seed, mode, fraction) -%}
    {%- set is_positive = 'coalesce(cast(' ~ label_column ~ ' as integer), 0) = 1' -%}
    {%- set positive_probability = 'cast(' ~ fraction ~ ' as double)' -%}
    {%- set negative_probability = 'cast(' ~ (fraction * negative_rate) ~ ' as double)' %}
    select
        *,
        case
            when {{ is_positive }} then {{ positive_probability }}
            else {{ negative_probability }}
        end as inclusion_probability,
        case
            when {{ is_positive }} then cast(1 as double) / {{ positive_probability }}
            else cast(1 as double) / {{ negative_probability }}
        end as sample_weight
    from {{ relation }}
    where
        {{ warehouse_ml.seeded_uniform(key_columns, seed, mode) }}
        < case when {{ is_positive }} then {{ positive_probability }} else {{ negative_probability }} end
{%- endmacro %}
