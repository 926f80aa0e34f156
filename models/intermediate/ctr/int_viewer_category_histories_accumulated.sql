{#- Per viewer, ad category and impression instant: the viewer's earlier impressions and clicks on it (see yml). -#}
{%- set prior_impressions = warehouse_ml.checked_var('ctr_viewer_prior_impressions') -%}

with

impressions as (
    select * from {{ ref('int_impressions_joined_to_clicks') }}
),

ads as (
    select * from {{ ref('stg_ads__ads') }}
),

viewer_category_impressions as (
    select
        impressions.user_id,
        ads.product_category,
        impressions.impressed_at,
        impressions.clicked_at
    from impressions
    inner join ads
        on impressions.ad_id = ads.ad_id
),

{# The prior every viewer's rate is smoothed towards: the pooled click rate, Laplace-smoothed so it is never 0 or 1. #}
pooled_click_rate as (
    select
        (cast(sum(case when clicked_at is not null then 1 else 0 end) as double) + 1.0e0)
        / (cast(count(*) as double) + 2.0e0) as prior_click_through_rate
    from viewer_category_impressions
),

{# An impression counts at its own time, a click at its click time (never before its impression). #}
viewer_category_events as (
    select
        user_id,
        product_category,
        impressed_at as event_at,
        1 as impressions,
        0 as clicks
    from viewer_category_impressions
    union all
    select
        user_id,
        product_category,
        greatest(clicked_at, impressed_at) as event_at,
        0 as impressions,
        1 as clicks
    from viewer_category_impressions
    where clicked_at is not null
),

{# One row per viewer, category and instant: whatever happens at the same instant is not "before" any of it. #}
viewer_category_moments as (
    select
        user_id,
        product_category,
        event_at,
        cast(sum(impressions) as bigint) as impressions,
        cast(sum(clicks) as bigint) as clicks
    from viewer_category_events
    group by
        user_id,
        product_category,
        event_at
),

viewer_category_histories as (
    select
        user_id,
        product_category,
        event_at as impressed_at,
        impressions,
        coalesce(cast(sum(impressions) over (
            partition by user_id, product_category
            order by event_at
            rows between unbounded preceding and 1 preceding
        ) as bigint), 0) as previous_impressions,
        coalesce(cast(sum(clicks) over (
            partition by user_id, product_category
            order by event_at
            rows between unbounded preceding and 1 preceding
        ) as bigint), 0) as previous_clicks
    from viewer_category_moments
),

viewer_category_rates as (
    select
        viewer_category_histories.user_id,
        viewer_category_histories.product_category,
        viewer_category_histories.impressed_at,
        viewer_category_histories.previous_impressions,
        viewer_category_histories.previous_clicks,
        (
            viewer_category_histories.previous_clicks
            + cast({{ prior_impressions }} as double) * pooled_click_rate.prior_click_through_rate
        ) / (viewer_category_histories.previous_impressions + cast({{ prior_impressions }} as double))
            as previous_smoothed_click_through_rate
    from viewer_category_histories
    cross join pooled_click_rate
    where viewer_category_histories.impressions > 0
)

select * from viewer_category_rates
