{#- No count of clicks exceeds its count of impressions: daily, in every trailing window, and in
    the impression features. Returns the offending rows. -#}
{%- set windows = var('ctr_rolling_windows_days') -%}

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
    {%- for window_days in windows %}

        union all

        select
            'fct_ad_ctr_rolling' as model_name,
            'clicks_{{ window_days }}d' as count_name,
            impressions_{{ window_days }}d as impressions,
            clicks_{{ window_days }}d as clicks
        from ad_ctr_rolling
        where clicks_{{ window_days }}d > impressions_{{ window_days }}d

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
