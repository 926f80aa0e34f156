with

evaluation_rows as (
    select * from {{ ref('ml_model_evaluation_rows') }}
),

coefficients as (
    select
        model_name,
        model_version,
        subject as term,
        value as coefficient
    from evaluation_rows
    where section = 'coefficient' and measure = 'coefficient'
)

select * from coefficients
