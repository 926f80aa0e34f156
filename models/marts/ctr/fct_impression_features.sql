{#- One row per valid impression: its label (is_clicked) and features known before the
    impression's day only. Every history feature ends the day BEFORE the impression day, so
    nothing from the impression's own day (its own click included) can leak into it.
    Large input (one row per impression): histories are aggregated per user x day and per
    ad x placement x day first, then joined on (key, day); no per-impression window runs
    over the history. -#}
{%- set windows = var('ctr_rolling_windows_days') -%}

with

impressions as (
    select * from {{ ref('int_impressions_joined_to_clicks') }}
),

ads as (
    select * from {{ ref('stg_ads__ads') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

ad_ctr_rolling as (
    select * from {{ ref('fct_ad_ctr_rolling') }}
),

placement_priors as (
    select * from {{ ref('ctr_placement_priors') }}
),

impression_history as (
    select min(impression_date) as history_start_date
    from impressions
),

category_launches as (
    select
        category as product_category,
        min(launch_date) as category_launch_date
    from products
    group by category
),

user_days as (
    select
        user_id,
        impression_date,
        count(*) as impressions,
        cast(sum(case when is_clicked then 1 else 0 end) as bigint) as clicks
    from impressions
    group by
        user_id,
        impression_date
),

user_histories as (
    -- One row per user and day with impressions: the sum over the user's earlier rows is the
    -- sum over all earlier days (days without impressions would add zero), ending the day before.
    select
        user_id,
        impression_date,
        coalesce(cast(sum(impressions) over (
            partition by user_id
            order by impression_date
            rows between unbounded preceding and 1 preceding
        ) as bigint), 0) as previous_impressions,
        coalesce(cast(sum(clicks) over (
            partition by user_id
            order by impression_date
            rows between unbounded preceding and 1 preceding
        ) as bigint), 0) as previous_clicks
    from user_days
),

impression_features as (
    select
        impressions.impression_id,
        impressions.impressed_at,
        impressions.impression_date,
        impressions.ad_id,
        impressions.placement,
        impressions.device,
        impressions.impression_hour,
        impressions.user_id,
        ads.product_category,
        impressions.is_clicked,
        {%- for window_days in windows %}
            coalesce(ad_ctr_rolling.impressions_{{ window_days }}d, 0) as ad_previous_impressions_{{ window_days }}d,
            coalesce(ad_ctr_rolling.clicks_{{ window_days }}d, 0) as ad_previous_clicks_{{ window_days }}d,
            ad_ctr_rolling.click_through_rate_{{ window_days }}d as ad_previous_click_through_rate_{{ window_days }}d,
            -- no rolling row the day before (the ad's first day in the placement): the prior mean,
            -- which is what the smoothed rate gives for zero impressions
            coalesce(
                ad_ctr_rolling.smoothed_click_through_rate_{{ window_days }}d,
                placement_priors.prior_mean
            ) as ad_previous_smoothed_click_through_rate_{{ window_days }}d,
        {%- endfor %}
        user_histories.previous_impressions as user_previous_impressions,
        user_histories.previous_clicks as user_previous_clicks,
        {{ safe_rate('user_histories.previous_clicks', 'user_histories.previous_impressions') }}
            as user_previous_click_through_rate,
        category_launches.category_launch_date,
        cast(
            {{ days_between('category_launches.category_launch_date', 'impressions.impression_date') }} as integer
        ) as days_since_category_launch,
        coalesce(
            category_launches.category_launch_date > impression_history.history_start_date,
            false
        ) as is_new_category
    from impressions
    left join user_histories
        on
            impressions.user_id = user_histories.user_id
            and impressions.impression_date = user_histories.impression_date
    left join ad_ctr_rolling
        on
            impressions.ad_id = ad_ctr_rolling.ad_id
            and impressions.placement = ad_ctr_rolling.placement
            and {{ add_days('impressions.impression_date', -1) }} = ad_ctr_rolling.as_of_date
    left join placement_priors
        on impressions.placement = placement_priors.placement
    left join ads
        on impressions.ad_id = ads.ad_id
    left join category_launches
        on ads.product_category = category_launches.product_category
    cross join impression_history
)

select * from impression_features
