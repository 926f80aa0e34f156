with

evaluation_rows as (
    select * from {{ ref('ml_model_evaluation_rows') }}
),

roc_curve as (
    select
        model_name,
        model_version,
        dataset,
        point,
        max(case when measure = 'threshold' then value end) as threshold,
        max(case when measure = 'false_positive_rate' then value end) as false_positive_rate,
        max(case when measure = 'true_positive_rate' then value end) as true_positive_rate
    from evaluation_rows
    where section = 'roc'
    group by model_name, model_version, dataset, point
)

select * from roc_curve
