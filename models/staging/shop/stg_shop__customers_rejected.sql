{#- Rejected customers with their reason (docs: _shop__models.yml). -#}
with

checked as (
    select * from {{ ref('base_shop__customers') }}
),

rejected as (
    select
        customer_id,
        signed_up_at,
        segment,
        region,
        acquisition_channel
        {{- extra_columns_sql('extra_customer_columns') }},
        rejection_reason
    from checked
    where
        not is_duplicate
        and rejection_reason is not null
)

select * from rejected
