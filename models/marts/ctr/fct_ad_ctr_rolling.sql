{#- One row per ad, placement and day, from the pair's first impression day to the last day
    in the data, with trailing-window CTRs for every window in var ctr_rolling_windows_days.
    Days without impressions are rows with zeros, so the windows can count rows. -#}
{%- set windows = var('ctr_rolling_windows_days') -%}
{%- if windows is string or windows is not iterable or windows | length == 0 -%}
    {{ exceptions.raise_compiler_error("ctr_rolling_windows_days must be a non-empty list of whole days, got " ~ windows) }}
{%- endif -%}
{%- for window_days in windows -%}
    {%- if window_days is not integer or window_days < 1 -%}
        {{ exceptions.raise_compiler_error("ctr_rolling_windows_days must hold positive whole numbers of days, got " ~ window_days) }}
    {%- endif -%}
{%- endfor -%}

with

ad_ctr_daily as (
    select * from {{ ref('fct_ad_ctr_daily') }}
),

placement_priors as (
    select * from {{ ref('ctr_placement_priors') }}
),

ad_placements as (
    select
        ad_id,
        placement,
        product_category,
        min(impression_date) as first_impression_date
    from ad_ctr_daily
    group by
        ad_id,
        placement,
        product_category
),

days as (
    {{ day_spine(
        '(select min(impression_date) from ad_ctr_daily)',
        '(select max(impression_date) from ad_ctr_daily)',
    ) }}
),

ad_placement_spine as (
    select
        ad_placements.ad_id,
        ad_placements.placement,
        ad_placements.product_category,
        days.date_day as as_of_date
    from ad_placements
    cross join days
    where days.date_day >= ad_placements.first_impression_date
),

dense_days as (
    select
        ad_placement_spine.ad_id,
        ad_placement_spine.placement,
        ad_placement_spine.product_category,
        ad_placement_spine.as_of_date,
        coalesce(ad_ctr_daily.impressions, 0) as impressions,
        coalesce(ad_ctr_daily.clicks, 0) as clicks
    from ad_placement_spine
    left join ad_ctr_daily
        on
            ad_placement_spine.ad_id = ad_ctr_daily.ad_id
            and ad_placement_spine.placement = ad_ctr_daily.placement
            and ad_placement_spine.as_of_date = ad_ctr_daily.impression_date
),

trailing_windows as (
    -- `rows between N-1 preceding and current row` is N days only because dense_days has exactly
    -- one row per ad, placement and calendar day (zeros included, no gaps): on the sparse
    -- fct_ad_ctr_daily it would reach back past gaps and count too many days.
    select
        ad_id,
        placement,
        product_category,
        as_of_date,
        impressions,
        {%- for window_days in windows %}
            cast(sum(impressions) over (
                partition by ad_id, placement
                order by as_of_date
                rows between {{ window_days - 1 }} preceding and current row
            ) as bigint) as impressions_{{ window_days }}d,
            cast(sum(clicks) over (
                partition by ad_id, placement
                order by as_of_date
                rows between {{ window_days - 1 }} preceding and current row
            ) as bigint) as clicks_{{ window_days }}d,
        {%- endfor %}
        clicks
    from dense_days
),

ad_ctr_rolling as (
    select
        trailing_windows.ad_id,
        trailing_windows.placement,
        trailing_windows.as_of_date,
        trailing_windows.product_category,
        trailing_windows.impressions,
        trailing_windows.clicks,
        {%- for window_days in windows %}
            trailing_windows.impressions_{{ window_days }}d,
            trailing_windows.clicks_{{ window_days }}d,
            {{ safe_rate(
                'trailing_windows.clicks_' ~ window_days ~ 'd',
                'trailing_windows.impressions_' ~ window_days ~ 'd',
            ) }} as click_through_rate_{{ window_days }}d,
            {{ safe_rate(
                'trailing_windows.clicks_' ~ window_days ~ 'd + placement_priors.prior_alpha',
                'trailing_windows.impressions_' ~ window_days ~ 'd + placement_priors.prior_alpha + placement_priors.prior_beta',
            ) }} as smoothed_click_through_rate_{{ window_days }}d,
        {%- endfor %}
        placement_priors.prior_alpha,
        placement_priors.prior_beta
    from trailing_windows
    left join placement_priors
        on trailing_windows.placement = placement_priors.placement
)

select * from ad_ctr_rolling
