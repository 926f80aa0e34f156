{#- One row per ad, placement and impression day with impressions (see _ctr__models.yml). -#}
with

impressions as (
    select * from {{ ref('int_impressions_joined_to_clicks') }}
),

ad_placement_days as (
    select
        ad_id,
        placement,
        impression_date,
        count(*) as impressions,
        cast(sum(case when is_clicked then 1 else 0 end) as bigint) as clicks
    from impressions
    group by
        ad_id,
        placement,
        impression_date
)

select * from ad_placement_days
