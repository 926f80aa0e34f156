with

evaluation_rows as (
    select * from {{ ref('ml_model_evaluation_rows') }}
),

pr_curve as (
    select
        model_name,
        model_version,
        dataset,
        point,
        max(case when measure = 'threshold' then value end) as threshold,
        -- precision: the usual name (the peers' threshold tables), a keyword to sqlfluff
        max(case when measure = 'precision' then value end) as precision,  -- noqa: RF04
        max(case when measure = 'recall' then value end) as recall
    from evaluation_rows
    where section = 'pr'
    group by model_name, model_version, dataset, point
)

select * from pr_curve
