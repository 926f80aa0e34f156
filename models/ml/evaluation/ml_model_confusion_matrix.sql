with

evaluation_rows as (
    select * from {{ ref('ml_model_evaluation_rows') }}
),

cells as (
    select
        model_name,
        model_version,
        dataset,
        point,
        max(subject) as threshold_dataset,
        max(case when measure = 'threshold' then value end) as threshold,
        max(case when measure = 'actual' then value end) as actual,
        max(case when measure = 'predicted' then value end) as predicted,
        max(case when measure = 'row_count' then value end) as row_count,
        max(case when measure = 'weight' then value end) as weight
    from evaluation_rows
    where section = 'confusion'
    group by model_name, model_version, dataset, point
),

confusion_matrix as (
    select
        model_name,
        model_version,
        dataset,
        actual = 1 as is_actual_positive,
        predicted = 1 as is_predicted_positive,
        case
            when actual = 1 and predicted = 1 then 'true_positive'
            when actual = 1 then 'false_negative'
            when predicted = 1 then 'false_positive'
            else 'true_negative'
        end as cell,
        threshold,
        'max_f1' as threshold_rule,
        threshold_dataset,
        cast(row_count as bigint) as row_count,
        weight
    from cells
)

select * from confusion_matrix
