{#- Every version's evaluation metrics as BI reads them: ml_model_metrics under its contract (_public__models.yml). -#}
with

ml_model_metrics as (
    select * from {{ ref('ml_model_metrics') }}
),

contracted as (
    select
        {{ warehouse_ml.contract_columns('ml_model_metrics') }}
    from ml_model_metrics
)

select * from contracted
