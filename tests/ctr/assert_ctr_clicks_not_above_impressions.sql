{#- No count of clicks exceeds its count of impressions: daily, in every trailing window and in the features. -#}
{%- set windows = ctr_rolling_windows() -%}

with

ad_ctr_daily as (
    select * from {{ ref('fct_ad_ctr_daily') }}
),

ad_ctr_rolling as (
    select * from {{ ref('fct_ad_ctr_rolling') }}
),

impression_features as (
    select * from {{ ref('fct_impression_features') }}
),

violations as (
    select
        'fct_ad_ctr_daily' as model_name,
        'clicks' as count_name,
        impressions,
        clicks
    from ad_ctr_daily
    where clicks > impressions

    union all

    select
        'fct_ad_ctr_rolling' as model_name,
        'clicks, window_days ' || cast(window_days as string) as count_name,
        impressions,
        clicks
    from ad_ctr_rolling
    where clicks > impressions or day_clicks > day_impressions
    {%- for window_days in windows %}

        union all

        select
            'fct_impression_features' as model_name,
            'ad_previous_clicks_{{ window_days }}d' as count_name,
            ad_previous_impressions_{{ window_days }}d as impressions,
            ad_previous_clicks_{{ window_days }}d as clicks
        from impression_features
        where ad_previous_clicks_{{ window_days }}d > ad_previous_impressions_{{ window_days }}d
    {%- endfor %}

    union all

    select
        'fct_impression_features' as model_name,
        'user_previous_clicks' as count_name,
        user_previous_impressions as impressions,
        user_previous_clicks as clicks
    from impression_features
    where user_previous_clicks > user_previous_impressions
)

select * from violations
