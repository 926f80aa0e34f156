with

source as (
    select * from {{ source('shop', 'customers') }}
),

typed as (
    select
        cast(customer_id as bigint) as customer_id,
        cast(signed_up_at as timestamp) as signed_up_at,
        cast(segment as string) as segment,
        cast(region as string) as region,
        cast(acquisition_channel as string) as acquisition_channel
    from source
),

ranked as (
    select
        *,
        {{ delivery_rank(
            'customer_id',
            ['signed_up_at', 'segment', 'region', 'acquisition_channel']
        ) }} as delivery_rank
    from typed
),

checked as (
    select
        customer_id,
        signed_up_at,
        cast(signed_up_at as date) as signup_date,
        segment,
        region,
        acquisition_channel,
        delivery_rank,
        {{ is_duplicate('customer_id') }} as is_duplicate,
        {{ rejection_reason([
            ['missing_key', 'customer_id is null'],
            ['missing_timestamp', 'signed_up_at is null'],
            ['invalid_segment', "segment is null or segment not in ('" ~ var('staging_segments') | join("', '") ~ "')"],
        ]) }} as rejection_reason
    from ranked
)

select * from checked
