with

checked as (
    select * from {{ ref('base_shop__products') }}
),

staged as (
    select
        product_id,
        product_name,
        category,
        launched_at,
        launch_date,
        {{ to_money('list_price') }} as list_price
    from checked
    where
        not is_duplicate
        and rejection_reason is null
)

select * from staged
