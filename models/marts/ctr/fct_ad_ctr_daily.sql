{#- CTR per ad, placement and impression day; clicks count on their impression's day (see _ctr__models.yml). -#}
with

ad_placement_days as (
    select * from {{ ref('int_ad_placement_days_aggregated') }}
),

ads as (
    select * from {{ ref('stg_ads__ads') }}
),

ad_ctr_daily as (
    select
        ad_placement_days.ad_id,
        ad_placement_days.placement,
        ad_placement_days.impression_date,
        ads.product_category,
        ad_placement_days.impressions,
        ad_placement_days.clicks,
        {{ safe_rate('ad_placement_days.clicks', 'ad_placement_days.impressions') }} as click_through_rate
    from ad_placement_days
    left join ads
        on ad_placement_days.ad_id = ads.ad_id
)

select * from ad_ctr_daily
