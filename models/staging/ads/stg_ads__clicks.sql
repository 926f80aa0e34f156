with

checked as (
    select * from {{ ref('base_ads__clicks') }}
),

staged as (
    select
        impression_id,
        clicked_at,
        loaded_at,
        is_late_arriving
    from checked
    where
        not is_duplicate
        and rejection_reason is null
)

select * from staged
