with

checked as (
    select * from {{ ref('base_shop__products') }}
),

rejected as (
    select
        product_id,
        product_name,
        category,
        launched_at,
        list_price,
        rejection_reason
    from checked
    where
        not is_duplicate
        and rejection_reason is not null
)

select * from rejected
