{#- Valid, deduplicated customers (docs: _shop__models.yml). -#}
with

checked as (
    select * from {{ ref('base_shop__customers') }}
),

staged as (
    select
        customer_id,
        signed_up_at,
        signup_date,
        segment,
        region,
        acquisition_channel
        {{- extra_columns_sql('extra_customer_columns') }}
    from checked
    where
        not is_duplicate
        and rejection_reason is null
)

select * from staged
