{#- Every registered churn model version without its artifact bytes, under the contract of _public__models.yml. -#}
with

registry as (
    select * from {{ ref('ml_churn_model') }}
),

contracted as (
    select
        {{ warehouse_ml.contract_columns('registry') }}
    from registry
)

select * from contracted
