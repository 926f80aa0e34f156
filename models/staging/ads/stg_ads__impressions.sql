{#- Valid, deduplicated impressions (docs: _ads__models.yml). -#}
with

checked as (
    select * from {{ ref('base_ads__impressions') }}
),

staged as (
    select
        impression_id,
        impressed_at,
        impression_date,
        impression_hour,
        ad_id,
        placement,
        device,
        user_id,
        loaded_at,
        is_late_arriving
        {{- extra_columns_sql('extra_impression_columns') }}
    from checked
    where
        not is_duplicate
        and rejection_reason is null
)

select * from staged
