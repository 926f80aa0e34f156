{#- Raw products typed, ranked and checked (docs: _shop__models.yml). -#}
with

source as (
    select * from {{ source('shop', 'products') }}
),

typed as (
    select
        cast(product_id as bigint) as product_id,
        cast(product_name as string) as product_name,
        cast(category as string) as category,
        {{ utc_timestamp('launched_at') }} as launched_at,
        cast(list_price as double) as list_price
    from source
),

ranked as (
    select
        *,
        {{ delivery_rank('product_id', ['launched_at', 'product_name', 'category', 'list_price']) }} as delivery_rank
    from typed
),

checked as (
    select
        product_id,
        product_name,
        category,
        launched_at,
        cast(launched_at as date) as launch_date,
        list_price,
        delivery_rank,
        {{ is_duplicate('product_id') }} as is_duplicate,
        {{ rejection_reason(
            [
                ['missing_key', 'product_id is null'],
                ['missing_timestamp', 'launched_at is null'],
            ]
            + event_time_checks('launched_at')
            + [
                ['missing_category', 'category is null'],
                ['null_list_price', 'list_price is null'],
            ]
            + amount_checks('list_price', name='list_price')
            + [['negative_list_price', 'list_price < 0']]
        ) }} as rejection_reason
    from ranked
)

select * from checked
