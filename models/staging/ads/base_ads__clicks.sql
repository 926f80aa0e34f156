{#- Raw clicks typed, impression-checked, ranked and checked (docs: _ads__models.yml). -#}
with

source as (
    select * from {{ source('ads', 'clicks') }}
),

impressions as (
    select * from {{ ref('stg_ads__impressions') }}
),

typed as (
    select
        cast(impression_id as bigint) as impression_id,
        {{ utc_timestamp('clicked_at') }} as clicked_at,
        {{ utc_timestamp('loaded_at') }} as loaded_at
    from source
),

ranked as (
    select
        typed.*,
        impressions.impression_id is not null as has_known_impression,
        impressions.impressed_at,
        {{ delivery_rank('typed.impression_id', ['typed.loaded_at', 'typed.clicked_at']) }} as delivery_rank
    from typed
    left join impressions
        on typed.impression_id = impressions.impression_id
),

checked as (
    select
        impression_id,
        clicked_at,
        loaded_at,
        {{ is_late_arriving('clicked_at', 'loaded_at') }} as is_late_arriving,
        impressed_at,
        delivery_rank,
        {{ is_duplicate('impression_id') }} as is_duplicate,
        {{ rejection_reason(
            [
                ['missing_key', 'impression_id is null'],
                ['missing_timestamp', 'clicked_at is null or loaded_at is null'],
            ]
            + event_time_checks('clicked_at', 'loaded_at')
            + [
                ['impression_not_found', 'not has_known_impression'],
                ['click_before_impression', 'clicked_at < impressed_at'],
            ]
        ) }} as rejection_reason
    from ranked
)

select * from checked
