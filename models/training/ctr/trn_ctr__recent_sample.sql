{#- CTR training set: a time window ending the day before the evaluation day, a random share, negative downsampling. -#}
{%- set end_date = warehouse_ml.checked_var('ctr_training_end_date') -%}
{%- set sampling = {
    'design': 'time window, random sample, negative downsampling',
    'population': 'fct_impression_features',
    'time_column': 'impression_date',
    'window_days': warehouse_ml.checked_var('ctr_training_window_days'),
    'end_date': end_date,
    'fraction': warehouse_ml.checked_var('ctr_training_sample_fraction'),
    'label_column': 'is_clicked',
    'negative_rate': warehouse_ml.checked_var('ctr_training_negative_rate'),
    'key_columns': ['impression_id'],
    'seed': warehouse_ml.checked_var('sampling_seed'),
    'mode': 'portable',
} -%}
{{ config(meta={'sampling': sampling}) }}

{#- Pass the relation, not a CTE over it: time_window reads it twice and DuckDB would materialise a CTE. -#}
with

recent_impressions as (
    {{ ctr_training_window(ref('fct_impression_features'), sampling) }}
),

downsampled_impressions as (
    {{ negative_downsample(
        'recent_impressions',
        sampling.label_column,
        sampling.negative_rate,
        sampling.key_columns,
        sampling.seed,
        mode=sampling.mode,
        fraction=sampling.fraction,
    ) }}
)

select * from downsampled_impressions
