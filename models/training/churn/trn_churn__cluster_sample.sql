{#- Churn training set: a customer cluster sample of the labelled rows of fct_customer_churn_features.
    Customer features are summaries of transactions, so sampling is by customer: a sampled customer
    keeps every observation row, an unsampled one has none. `split` sends whole customers to train or
    holdout by a second, independent seeded hash. Portable hashing: DuckDB and Spark pick the same customers. -#}
{%- set seed = var('sampling_seed') -%}
{%- set customer_fraction = var('churn_training_customer_fraction') -%}
{%- set holdout_fraction = var('churn_training_holdout_fraction') -%}
{{ config(
    meta={
        'sampling': {
            'design': 'cluster',
            'population': "fct_customer_churn_features where is_label_complete",
            'cluster_key': 'customer_id',
            'fraction': customer_fraction,
            'seed': seed,
            'mode': 'portable',
            'split': {'holdout_fraction': holdout_fraction, 'seed': seed + 1, 'key': 'customer_id'},
        }
    }
) }}

with

churn_features as (
    select * from {{ ref('fct_customer_churn_features') }}
),

labelled_rows as (
    select *
    from churn_features
    where is_label_complete
),

customer_sample as (
    {{ cluster_sample('labelled_rows', 'customer_id', customer_fraction, seed, mode='portable') }}
),

customer_split as (
    select
        *,
        case
            when {{ seeded_uniform('customer_id', seed + 1, mode='portable') }} < {{ holdout_fraction }}
                then 'holdout'
            else 'train'
        end as split
    from customer_sample
)

select * from customer_split
