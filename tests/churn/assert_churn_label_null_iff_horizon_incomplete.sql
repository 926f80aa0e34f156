{#- is_churned is null exactly on the rows whose label horizon is not complete in the data,
    and is_label_complete agrees with the observation date's horizon end. -#}
with

churn_features as (
    select * from {{ ref('fct_customer_churn_features') }}
),

observation_dates as (
    select * from {{ ref('int_churn_observation_dates') }}
),

inconsistent_labels as (
    select
        churn_features.customer_id,
        churn_features.observation_date,
        churn_features.is_label_complete,
        churn_features.is_churned,
        observation_dates.label_horizon_end_date,
        observation_dates.last_transaction_date
    from churn_features
    inner join observation_dates
        on churn_features.observation_date = observation_dates.observation_date
    where
        (churn_features.is_churned is null) = churn_features.is_label_complete
        or churn_features.is_label_complete
        != (observation_dates.label_horizon_end_date <= observation_dates.last_transaction_date)
)

select * from inconsistent_labels
