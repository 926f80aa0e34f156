{#- negative_downsample(relation, label_column, negative_rate, key_columns, seed, mode='native', fraction=1): every positive, a share of negatives (see _sampling__macros.yml). -#}
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
