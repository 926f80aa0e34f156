{#- Predicted vs observed CTR as BI reads it: ctr_predictions under the contract of _public__models.yml. -#}
with

ctr_predictions as (
    select * from {{ ref('ctr_predictions') }}
),

contracted as (
    select
        {{ warehouse_ml.contract_columns('ctr_predictions') }}
    from ctr_predictions
)

select * from contracted
