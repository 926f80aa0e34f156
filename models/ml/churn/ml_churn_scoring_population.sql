{#- Every customer row of fct_customer_churn_features at its latest observation date: what churn_scores scores. -#}
with

latest_observation_date as (
    {{ time_window(ref('fct_customer_churn_features'), 'observation_date', 1) }}
)

select * from latest_observation_date
