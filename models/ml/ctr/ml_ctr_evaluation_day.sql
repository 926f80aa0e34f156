{#- Every impression of the CTR evaluation day (ctr_evaluation_date): the day after the training window. -#}
with

impression_features as (
    select * from {{ ref('fct_impression_features') }}
),

evaluation_day as (
    select *
    from impression_features
    where impression_date = {{ ctr_evaluation_date(ref('fct_impression_features')) }}
)

select * from evaluation_day
