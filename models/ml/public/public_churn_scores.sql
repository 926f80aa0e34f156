{#- The churn scores as BI reads them: churn_scores under the contract of _public__models.yml. -#}
with

churn_scores as (
    select * from {{ ref('churn_scores') }}
),

contracted as (
    select
        {{ warehouse_ml.contract_columns('churn_scores') }}
    from churn_scores
)

select * from contracted
