{#- Densifying neither loses nor invents activity: per ad, placement and window the day counts match the daily ones. -#}
with

ad_ctr_daily as (
    select * from {{ ref('fct_ad_ctr_daily') }}
),

ad_ctr_rolling as (
    select * from {{ ref('fct_ad_ctr_rolling') }}
),

daily_totals as (
    select
        ad_id,
        placement,
        sum(impressions) as impressions,
        sum(clicks) as clicks
    from ad_ctr_daily
    group by
        ad_id,
        placement
),

rolling_totals as (
    select
        ad_id,
        placement,
        window_days,
        sum(day_impressions) as impressions,
        sum(day_clicks) as clicks
    from ad_ctr_rolling
    group by
        ad_id,
        placement,
        window_days
),

mismatches as (
    select
        coalesce(daily_totals.ad_id, rolling_totals.ad_id) as ad_id,
        coalesce(daily_totals.placement, rolling_totals.placement) as placement,
        rolling_totals.window_days,
        daily_totals.impressions as daily_impressions,
        rolling_totals.impressions as rolling_impressions,
        daily_totals.clicks as daily_clicks,
        rolling_totals.clicks as rolling_clicks
    from daily_totals
    full outer join rolling_totals
        on
            daily_totals.ad_id = rolling_totals.ad_id
            and daily_totals.placement = rolling_totals.placement
    where
        daily_totals.ad_id is null
        or rolling_totals.ad_id is null
        or daily_totals.impressions != rolling_totals.impressions
        or daily_totals.clicks != rolling_totals.clicks
)

select * from mismatches
