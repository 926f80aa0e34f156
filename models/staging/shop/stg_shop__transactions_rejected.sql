with

checked as (
    select * from {{ ref('base_shop__transactions') }}
),

rejected as (
    select
        transaction_id,
        customer_id,
        product_id,
        transacted_at,
        amount,
        quantity,
        loaded_at,
        rejection_reason
    from checked
    where
        not is_duplicate
        and rejection_reason is not null
)

select * from rejected
