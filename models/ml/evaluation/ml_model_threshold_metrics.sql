with

evaluation_rows as (
    select * from {{ ref('ml_model_evaluation_rows') }}
),

threshold_metrics as (
    select
        model_name,
        model_version,
        dataset,
        point,
        max(case when measure = 'threshold' then value end) as threshold,
        max(case when measure = 'predicted_positive_rate' then value end) as predicted_positive_rate,
        -- precision: the usual name (the peers' threshold tables), a keyword to sqlfluff
        max(case when measure = 'precision' then value end) as precision,  -- noqa: RF04
        max(case when measure = 'recall' then value end) as recall,
        max(case when measure = 'f1' then value end) as f1,
        max(case when measure = 'lift' then value end) as lift
    from evaluation_rows
    where section = 'threshold'
    group by model_name, model_version, dataset, point
)

select * from threshold_metrics
