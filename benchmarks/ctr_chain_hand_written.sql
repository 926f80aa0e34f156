-- The CTR chain as one hand-written DuckDB script over the raw Parquet files: the baseline of
-- benchmarks/bench_ctr_chain.py. Same rules as the project at default vars (first delivery per
-- key wins, then the staging checks; clicks belong to their impression's day; dense trailing
-- windows; method-of-moments Beta prior per placement), written the way an analyst would by hand:
-- no intermediate tables, dedup with `qualify`, checks as one `where`.
-- {raw} is the raw data folder, {now} the run's start as a UTC timestamp literal, {windows} the
-- trailing windows as a values list, {min_impressions} var ctr_prior_min_impressions.

create or replace table hand_ad_ctr_daily as
with

ads as (
    select
        cast(ad_id as bigint) as ad_id,
        cast(product_category as varchar) as product_category,
        make_timestamp(epoch_us(created_at)) as created_at
    from read_parquet('{raw}/ads/*.parquet')
    where ad_id is not null
    qualify row_number() over (
        partition by ad_id
        order by
            make_timestamp(epoch_us(created_at)) asc nulls last,
            campaign_id asc nulls last,
            product_category asc nulls last
    ) = 1
),

valid_ads as (
    select ad_id, product_category
    from ads
    where
        created_at is not null
        and created_at >= timestamp '2000-01-01'
        and created_at <= {now}
),

impressions as (
    select
        cast(impression_id as bigint) as impression_id,
        make_timestamp(epoch_us(impressed_at)) as impressed_at,
        make_timestamp(epoch_us(loaded_at)) as loaded_at,
        cast(ad_id as bigint) as ad_id,
        cast(placement as varchar) as placement,
        cast(device as varchar) as device
    from read_parquet('{raw}/impressions/*.parquet')
    where impression_id is not null
    qualify row_number() over (
        partition by impression_id
        order by
            make_timestamp(epoch_us(loaded_at)) asc nulls last,
            make_timestamp(epoch_us(impressed_at)) asc nulls last,
            ad_id asc nulls last,
            placement asc nulls last,
            device asc nulls last,
            user_id asc nulls last
    ) = 1
),

valid_impressions as (
    select impression_id, impressed_at, ad_id, placement
    from impressions
    where
        impressed_at is not null
        and loaded_at is not null
        and impressed_at >= timestamp '2000-01-01'
        and impressed_at <= {now}
        and impressed_at <= loaded_at
        and ad_id in (select ad_id from valid_ads)
        and placement in ({placements})
        and device in ({devices})
),

clicks as (
    select
        cast(impression_id as bigint) as impression_id,
        make_timestamp(epoch_us(clicked_at)) as clicked_at,
        make_timestamp(epoch_us(loaded_at)) as loaded_at
    from read_parquet('{raw}/clicks/*.parquet')
    where impression_id is not null
    qualify row_number() over (
        partition by impression_id
        order by
            make_timestamp(epoch_us(loaded_at)) asc nulls last,
            make_timestamp(epoch_us(clicked_at)) asc nulls last
    ) = 1
),

impressions_with_clicks as (
    select
        valid_impressions.ad_id,
        valid_impressions.placement,
        cast(valid_impressions.impressed_at as date) as impression_date,
        clicks.impression_id is not null as is_clicked
    from valid_impressions
    left join clicks
        on
            valid_impressions.impression_id = clicks.impression_id
            and clicks.clicked_at is not null
            and clicks.loaded_at is not null
            and clicks.clicked_at >= timestamp '2000-01-01'
            and clicks.clicked_at <= {now}
            and clicks.clicked_at <= clicks.loaded_at
            and clicks.clicked_at >= valid_impressions.impressed_at
),

daily as (
    select
        ad_id,
        placement,
        impression_date,
        count(*) as impressions,
        count(*) filter (where is_clicked) as clicks
    from impressions_with_clicks
    group by ad_id, placement, impression_date
)

select
    daily.ad_id,
    daily.placement,
    daily.impression_date,
    valid_ads.product_category,
    daily.impressions,
    daily.clicks,
    cast(daily.clicks as double) / nullif(cast(daily.impressions as double), 0) as click_through_rate
from daily
left join valid_ads
    on daily.ad_id = valid_ads.ad_id;

create or replace table hand_ad_ctr_rolling as
with

totals as (
    select
        placement,
        ad_id,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        any_value(product_category) as product_category,
        min(impression_date) as first_impression_date
    from hand_ad_ctr_daily
    group by placement, ad_id
),

moments as (
    select
        placement,
        count(*) as ads_used,
        avg(cast(clicks as double) / impressions) as mean,
        var_samp(cast(clicks as double) / impressions)
        - avg((cast(clicks as double) / impressions) * (1 - cast(clicks as double) / impressions) / impressions)
            as true_variance,
        (sum(clicks) + 0.5) / (sum(impressions) + 1.0) as pooled
    from totals
    where impressions >= greatest({min_impressions}, 1)
    group by placement
),

priors as (
    select
        placement,
        case
            when mean > 0 and mean < 1 and true_variance > 0 and true_variance < mean * (1 - mean)
                then mean * (mean * (1 - mean) / true_variance - 1)
            else pooled * 10.0
        end as prior_alpha,
        case
            when mean > 0 and mean < 1 and true_variance > 0 and true_variance < mean * (1 - mean)
                then (1 - mean) * (mean * (1 - mean) / true_variance - 1)
            else (1 - pooled) * 10.0
        end as prior_beta
    from moments
),

dense as (
    select
        totals.ad_id,
        totals.placement,
        totals.product_category,
        days.as_of_date,
        coalesce(hand_ad_ctr_daily.impressions, 0) as impressions,
        coalesce(hand_ad_ctr_daily.clicks, 0) as clicks
    from totals
    inner join (
        select cast(unnest(generate_series(min(impression_date), max(impression_date), interval 1 day)) as date)
            as as_of_date
        from hand_ad_ctr_daily
    ) as days
        on days.as_of_date >= totals.first_impression_date
    left join hand_ad_ctr_daily
        on
            totals.ad_id = hand_ad_ctr_daily.ad_id
            and totals.placement = hand_ad_ctr_daily.placement
            and days.as_of_date = hand_ad_ctr_daily.impression_date
),

windowed as (
    select
        dense.*,
        windows.window_days,
        sum(dense.impressions) over trailing_days as window_impressions,
        sum(dense.clicks) over trailing_days as window_clicks
    from dense
    cross join (values {windows}) as windows (window_days)
    window trailing_days as (
        partition by dense.ad_id, dense.placement, windows.window_days
        order by dense.as_of_date
        rows between windows.window_days - 1 preceding and current row
    )
)

select
    windowed.ad_id,
    windowed.placement,
    windowed.as_of_date,
    cast(windowed.window_days as integer) as window_days,
    windowed.product_category,
    windowed.impressions as day_impressions,
    windowed.clicks as day_clicks,
    cast(windowed.window_impressions as bigint) as impressions,
    cast(windowed.window_clicks as bigint) as clicks,
    cast(windowed.window_clicks as double) / nullif(cast(windowed.window_impressions as double), 0)
        as click_through_rate,
    cast(windowed.window_clicks + priors.prior_alpha as double)
    / nullif(cast(windowed.window_impressions + priors.prior_alpha + priors.prior_beta as double), 0)
        as smoothed_click_through_rate,
    priors.prior_alpha,
    priors.prior_beta
from windowed
left join priors
    on windowed.placement = priors.placement;
