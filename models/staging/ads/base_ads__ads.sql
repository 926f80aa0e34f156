{#- Raw ads typed, ranked and checked (docs: _ads__models.yml). -#}
with

source as (
    select * from {{ source('ads', 'ads') }}
),

typed as (
    select
        cast(ad_id as bigint) as ad_id,
        cast(campaign_id as bigint) as campaign_id,
        cast(product_category as string) as product_category,
        {{ utc_timestamp('created_at') }} as created_at
    from source
),

ranked as (
    select
        *,
        {{ delivery_rank('ad_id', ['created_at', 'campaign_id', 'product_category']) }} as delivery_rank
    from typed
),

checked as (
    select
        ad_id,
        campaign_id,
        product_category,
        created_at,
        delivery_rank,
        {{ is_duplicate('ad_id') }} as is_duplicate,
        {{ rejection_reason(
            [
                ['missing_key', 'ad_id is null'],
                ['missing_timestamp', 'created_at is null'],
            ]
            + event_time_checks('created_at')
        ) }} as rejection_reason
    from ranked
)

select * from checked
