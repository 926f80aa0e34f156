{#- One row per valid impression: its label and the features known before its day (viewer x category: its instant). -#}
{%- set windows = ctr_rolling_windows() -%}
{%- set window_measures = ['impressions', 'clicks', 'click_through_rate', 'smoothed_click_through_rate'] -%}

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

viewer_category_histories as (
    select * from {{ ref('int_viewer_category_histories_accumulated') }}
),

impression_history as (
    select min(impression_date) as history_start_date
    from impressions
),

{# fct_ad_ctr_rolling is long (one row per window): pivot it to one row per ad x placement x day before the join. #}
ad_ctr_windows as (
    select
        {%- for window_days in windows %}
            {%- for measure in window_measures %}
                max(case when window_days = {{ window_days }} then {{ measure }} end)
                    as window_{{ window_days }}d_{{ measure }},
            {%- endfor %}
        {%- endfor %}
        ad_id,
        placement,
        as_of_date
    from ad_ctr_rolling
    group by
        ad_id,
        placement,
        as_of_date
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
        impressions.user_id,
        ads.product_category,
        {%- for column in feature_set_columns('ctr') %}
            {{ column.expression }} as {{ column.name }},
        {%- endfor %}
        impressions.is_clicked
    from impressions
    left join user_histories
        on
            impressions.user_id = user_histories.user_id
            and impressions.impression_date = user_histories.impression_date
    left join ad_ctr_windows
        on
            impressions.ad_id = ad_ctr_windows.ad_id
            and impressions.placement = ad_ctr_windows.placement
            and {{ add_days('impressions.impression_date', -1) }} = ad_ctr_windows.as_of_date
    left join placement_priors
        on impressions.placement = placement_priors.placement
    left join ads
        on impressions.ad_id = ads.ad_id
    left join viewer_category_histories
        on
            impressions.user_id = viewer_category_histories.user_id
            and ads.product_category = viewer_category_histories.product_category
            and impressions.impressed_at = viewer_category_histories.impressed_at
    left join category_launches
        on ads.product_category = category_launches.product_category
    cross join impression_history
)

select * from impression_features
