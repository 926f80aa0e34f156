{#- One row per ad, placement, calendar day and trailing window of ctr_rolling_windows_days (see _ctr__models.yml). -#}
{%- set windows = ctr_rolling_windows() -%}

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

rolling_windows as (
    {%- for window_days in windows %}
        select cast({{ window_days }} as integer) as window_days
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

{# Long format: one read of trailing_windows, each row picking its own window's sums. #}
window_rows as (
    select
        trailing_windows.ad_id,
        trailing_windows.placement,
        trailing_windows.as_of_date,
        rolling_windows.window_days,
        trailing_windows.product_category,
        trailing_windows.impressions as day_impressions,
        trailing_windows.clicks as day_clicks,
        case rolling_windows.window_days
            {%- for window_days in windows %}
                when {{ window_days }} then trailing_windows.impressions_{{ window_days }}d
            {%- endfor %}
        end as impressions,
        case rolling_windows.window_days
            {%- for window_days in windows %}
                when {{ window_days }} then trailing_windows.clicks_{{ window_days }}d
            {%- endfor %}
        end as clicks
    from trailing_windows
    cross join rolling_windows
),

ad_ctr_rolling as (
    select
        window_rows.ad_id,
        window_rows.placement,
        window_rows.as_of_date,
        window_rows.window_days,
        window_rows.product_category,
        window_rows.day_impressions,
        window_rows.day_clicks,
        window_rows.impressions,
        window_rows.clicks,
        {{ safe_rate('window_rows.clicks', 'window_rows.impressions') }} as click_through_rate,
        {{ safe_rate(
            'window_rows.clicks + placement_priors.prior_alpha',
            'window_rows.impressions + placement_priors.prior_alpha + placement_priors.prior_beta',
        ) }} as smoothed_click_through_rate,
        placement_priors.prior_alpha,
        placement_priors.prior_beta
    from window_rows
    left join placement_priors
        on window_rows.placement = placement_priors.placement
)

select * from ad_ctr_rolling
