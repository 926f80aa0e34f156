{#- Churn training set: a customer cluster sample of the labelled rows before the out-of-time date. -#}
{%- set sampling = {
    'design': 'cluster',
    'population': 'fct_customer_churn_features where is_label_complete, before the out-of-time date',
    'cluster_key': 'customer_id',
    'fraction': warehouse_ml.checked_var('churn_training_customer_fraction'),
    'seed': warehouse_ml.checked_var('sampling_seed'),
    'mode': 'portable',
    'split': {
        'holdout_fraction': warehouse_ml.checked_var('churn_training_holdout_fraction'),
        'seed': warehouse_ml.checked_var('sampling_seed') + 1,
        'key': 'customer_id',
    },
} -%}
{%- set split = sampling.split -%}
{{ config(meta={'sampling': sampling}) }}

with

churn_features as (
    select * from {{ ref('fct_customer_churn_features') }}
),

labelled_rows as (
    select *
    from churn_features
    where
        is_label_complete
        and observation_date < {{ churn_out_of_time_date(ref('fct_customer_churn_features')) }}
),

customer_sample as (
    {{ cluster_sample('labelled_rows', sampling.cluster_key, sampling.fraction, sampling.seed, mode=sampling.mode) }}
),

customer_split as (
    select
        *,
        case
            when {{ seeded_uniform(split.key, split.seed, mode=sampling.mode) }} < {{ split.holdout_fraction }}
                then 'holdout'
            else 'train'
        end as split
    from customer_sample
)

select * from customer_split
