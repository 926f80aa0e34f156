{#- Raw order lines typed, key-checked, ranked and checked (docs: _shop__models.yml). -#}
with

source as (
    select * from {{ source('shop', 'transactions') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

typed as (
    select
        cast(transaction_id as bigint) as transaction_id,
        cast(customer_id as bigint) as customer_id,
        cast(product_id as bigint) as product_id,
        {{ utc_timestamp('transacted_at') }} as transacted_at,
        cast(amount as double) as amount,
        cast(quantity as integer) as quantity,
        {{ utc_timestamp('loaded_at') }} as loaded_at
    from source
),

ranked as (
    select
        typed.*,
        customers.customer_id is not null as has_known_customer,
        products.product_id is not null as has_known_product,
        {{ delivery_rank(
            'typed.transaction_id',
            ['typed.loaded_at', 'typed.transacted_at', 'typed.customer_id', 'typed.product_id', 'typed.amount', 'typed.quantity']
        ) }} as delivery_rank
    from typed
    left join customers
        on typed.customer_id = customers.customer_id
    left join products
        on typed.product_id = products.product_id
),

checked as (
    select
        transaction_id,
        customer_id,
        product_id,
        transacted_at,
        cast(transacted_at as date) as transaction_date,
        amount,
        quantity,
        loaded_at,
        {{ is_late_arriving('transacted_at', 'loaded_at') }} as is_late_arriving,
        delivery_rank,
        {{ is_duplicate('transaction_id') }} as is_duplicate,
        {{ rejection_reason(
            [
                ['missing_key', 'transaction_id is null'],
                ['missing_timestamp', 'transacted_at is null or loaded_at is null'],
            ]
            + event_time_checks('transacted_at', 'loaded_at')
            + [['null_amount', 'amount is null']]
            + amount_checks('amount')
            + [
                ['negative_amount', 'amount < 0'],
                ['zero_amount', 'amount = 0'],
                ['non_positive_quantity', 'quantity is null or quantity <= 0'],
                ['unknown_customer', 'not has_known_customer'],
                ['unknown_product', 'not has_known_product'],
            ]
        ) }} as rejection_reason
    from ranked
)

select * from checked
