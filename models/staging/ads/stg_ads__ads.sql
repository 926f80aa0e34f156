with

checked as (
    select * from {{ ref('base_ads__ads') }}
),

staged as (
    select
        ad_id,
        campaign_id,
        product_category,
        created_at
    from checked
    where
        not is_duplicate
        and rejection_reason is null
)

select * from staged
