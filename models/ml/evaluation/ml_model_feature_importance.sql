with

evaluation_rows as (
    select * from {{ ref('ml_model_evaluation_rows') }}
),

permutation_importance as (
    select
        model_name,
        model_version,
        dataset,
        subject as feature_name,
        'roc_auc' as metric,
        max(case when measure = 'baseline' then value end) as baseline_metric,
        max(case when measure = 'importance_mean' then value end) as importance_mean,
        max(case when measure = 'importance_std' then value end) as importance_std
    from evaluation_rows
    where section = 'permutation_importance'
    group by model_name, model_version, dataset, subject
),

ranked as (
    select
        *,
        cast(row_number() over (
            partition by model_name, model_version, dataset
            order by importance_mean desc, feature_name asc
        ) as bigint) as importance_rank
    from permutation_importance
)

select * from ranked
