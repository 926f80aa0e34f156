with

checked as (
    select * from {{ ref('base_ads__clicks') }}
),

rejected as (
    select
        impression_id,
        clicked_at,
        loaded_at,
        impressed_at,
        rejection_reason
    from checked
    where
        not is_duplicate
        and rejection_reason is not null
)

select * from rejected
