{#- One row per customer per observation date: point-in-time features (churn_features macro) and the label. -#}
with

transactions as (
    select * from {{ ref('stg_shop__transactions') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

observation_dates as (
    select * from {{ ref('int_churn_observation_dates') }}
),

features as (
    {{ churn_features('transactions', 'observation_dates', 'customers', 'products') }}
),

customer_days as (
    select distinct
        customer_id,
        transaction_date
    from transactions
),

future_activity as (
    select
        customer_days.customer_id,
        observation_dates.observation_date,
        count(*) as active_days_in_horizon
    from customer_days
    inner join observation_dates
        on
            customer_days.transaction_date > observation_dates.observation_date
            and customer_days.transaction_date <= observation_dates.label_horizon_end_date
    group by
        customer_days.customer_id,
        observation_dates.observation_date
),

labelled as (
    select
        features.*,
        observation_dates.is_label_complete,
        case
            when not observation_dates.is_label_complete then null
            when future_activity.customer_id is null then true
            else false
        end as is_churned
    from features
    inner join observation_dates
        on features.observation_date = observation_dates.observation_date
    left join future_activity
        on
            features.customer_id = future_activity.customer_id
            and features.observation_date = future_activity.observation_date
)

select * from labelled
