{#- Every customer at the latest observation date whose label is complete: the out-of-time evaluation set. -#}
with

churn_features as (
    select * from {{ ref('fct_customer_churn_features') }}
),

out_of_time_rows as (
    select *
    from churn_features
    where
        is_label_complete
        and observation_date = {{ churn_out_of_time_date(ref('fct_customer_churn_features')) }}
)

select * from out_of_time_rows
