{#- CTR training set when only recent data is representative: the impressions of the last
    `ctr_training_window_days` days up to `ctr_training_end_date` (null: the latest impression date),
    a random (hash) share `ctr_training_sample_fraction` of them, then negative downsampling: clicked
    impressions stay at that share, non-clicked ones at share x `ctr_training_negative_rate`.
    sample_weight undoes both stages; predictions q of a model fitted without weights are recalibrated
    with p = q / (q + (1 - q) / ctr_training_negative_rate). -#}
{%- set seed = var('sampling_seed') -%}
{%- set window_days = var('ctr_training_window_days') -%}
{%- set end_date = var('ctr_training_end_date') -%}
{%- set sample_fraction = var('ctr_training_sample_fraction') -%}
{%- set negative_rate = var('ctr_training_negative_rate') -%}
{{ config(
    meta={
        'sampling': {
            'design': 'time window, random sample, negative downsampling',
            'population': 'fct_impression_features',
            'time_column': 'impression_date',
            'window_days': window_days,
            'end_date': end_date if end_date else 'latest impression_date',
            'fraction': sample_fraction,
            'label_column': 'is_clicked',
            'negative_rate': negative_rate,
            'key_columns': ['impression_id'],
            'seed': seed,
            'mode': 'portable',
        }
    }
) }}

{#- time_window reads its input twice (the latest date, then the rows): pass the relation, not a CTE
    over it, or DuckDB materialises the CTE (a full copy of the table). -#}
with

recent_impressions as (
    {{ time_window(ref('fct_impression_features'), 'impression_date', window_days, end_date=end_date) }}
),

downsampled_impressions as (
    {{ negative_downsample(
        'recent_impressions',
        'is_clicked',
        negative_rate,
        'impression_id',
        seed,
        mode='portable',
        fraction=sample_fraction,
    ) }}
)

select * from downsampled_impressions
