{#- One row per valid impression with its click, if any, and the extra_impression_columns (see _ctr__models.yml). -#}
with

impressions as (
    select * from {{ ref('stg_ads__impressions') }}
),

clicks as (
    select * from {{ ref('stg_ads__clicks') }}
),

impressions_joined_to_clicks as (
    select
        impressions.impression_id,
        impressions.impressed_at,
        impressions.impression_date,
        impressions.impression_hour,
        impressions.ad_id,
        impressions.placement,
        impressions.device,
        impressions.user_id,
        {%- for column in extra_columns('extra_impression_columns') %}
        impressions.{{ column.name }},
        {%- endfor %}
        clicks.clicked_at,
        clicks.impression_id is not null as is_clicked
    from impressions
    left join clicks
        on impressions.impression_id = clicks.impression_id
)

select * from impressions_joined_to_clicks
