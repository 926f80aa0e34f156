{#- fct_impression_features has exactly one row per staged impression and the same clicks:
    no impression is dropped by a join, none is duplicated. Returns a row if the counts differ. -#}
with

impressions as (
    select * from {{ ref('stg_ads__impressions') }}
),

clicks as (
    select * from {{ ref('stg_ads__clicks') }}
),

impression_features as (
    select * from {{ ref('fct_impression_features') }}
),

expected as (
    select
        (select count(*) from impressions) as impressions,
        (
            select count(*)
            from clicks
            inner join impressions
                on clicks.impression_id = impressions.impression_id
        ) as clicks
),

actual as (
    select
        count(*) as impressions,
        sum(case when is_clicked then 1 else 0 end) as clicks
    from impression_features
),

differences as (
    select
        expected.impressions as expected_impressions,
        actual.impressions as actual_impressions,
        expected.clicks as expected_clicks,
        actual.clicks as actual_clicks
    from expected
    cross join actual
    where
        expected.impressions != actual.impressions
        or expected.clicks != actual.clicks
)

select * from differences
