with

checked as (
    select * from {{ ref('base_shop__transactions') }}
),

staged as (
    select
        transaction_id,
        customer_id,
        product_id,
        transacted_at,
        transaction_date,
        {{ to_money('amount') }} as amount,
        quantity,
        loaded_at,
        is_late_arriving
    from checked
    where
        not is_duplicate
        and rejection_reason is null
)

select * from staged
