{#- The champion/challenger decision log as BI reads it: ml_model_decisions under its contract. -#}
with

ml_model_decisions as (
    select * from {{ ref('ml_model_decisions') }}
),

contracted as (
    select
        {{ warehouse_ml.contract_columns('ml_model_decisions') }}
    from ml_model_decisions
)

select * from contracted
