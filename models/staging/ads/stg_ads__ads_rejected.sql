with

checked as (
    select * from {{ ref('base_ads__ads') }}
),

rejected as (
    select
        ad_id,
        campaign_id,
        product_category,
        created_at,
        rejection_reason
    from checked
    where
        not is_duplicate
        and rejection_reason is not null
)

select * from rejected
