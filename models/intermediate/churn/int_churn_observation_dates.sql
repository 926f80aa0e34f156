{#- One row per observation date of the churn features (see _churn__models.yml). -#}
{%- set grain = warehouse_ml.checked_var('churn_observation_grain') -%}
{#- No observation date before every period the features read fits inside the data: a 365-day window
    in the data's first year would count only part of it, and the model would learn truncated figures. -#}
{%- set min_history_days = warehouse_ml.checked_var('churn_min_history_days') -%}
{%- set history_days = [min_history_days, warehouse_ml.churn_lookback_days()] | max -%}
{%- set horizon_days = warehouse_ml.checked_var('churn_horizon_days') -%}
{%- if grain == 'month' -%}
    {%- set is_observation_day = 'days.date_day = last_day(days.date_day)' -%}
{%- else -%}
    {#- 1970-01-04 was a Sunday; day-of-week numbering differs between engines, day counts do not. -#}
    {%- set is_observation_day = days_between("cast('1970-01-04' as date)", 'days.date_day') ~ ' % 7 = 0' -%}
{%- endif %}

with

transactions as (
    select * from {{ ref('stg_shop__transactions') }}
),

transaction_bounds as (
    select
        min(transaction_date) as first_transaction_date,
        max(transaction_date) as last_transaction_date
    from transactions
),

days as (
    {{ day_spine(
        '(select ' ~ add_days('first_transaction_date', history_days) ~ ' from transaction_bounds)',
        '(select last_transaction_date from transaction_bounds)',
    ) }}
),

observation_dates as (
    select
        days.date_day as observation_date,
        {{ add_days('days.date_day', horizon_days) }} as label_horizon_end_date,
        transaction_bounds.last_transaction_date,
        {{ add_days('days.date_day', horizon_days) }}
        <= transaction_bounds.last_transaction_date as is_label_complete
    from days
    cross join transaction_bounds
    where {{ is_observation_day }}
)

select * from observation_dates
