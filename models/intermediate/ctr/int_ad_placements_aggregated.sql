{#- One row per ad and placement: whole-history totals, input of ctr_placement_priors (see _ctr__models.yml). -#}
with

ad_placement_days as (
    select * from {{ ref('int_ad_placement_days_aggregated') }}
),

ad_placements as (
    select
        ad_id,
        placement,
        cast(sum(impressions) as bigint) as impressions,
        cast(sum(clicks) as bigint) as clicks,
        min(impression_date) as first_impression_date,
        max(impression_date) as last_impression_date
    from ad_placement_days
    group by
        ad_id,
        placement
)

select * from ad_placements
