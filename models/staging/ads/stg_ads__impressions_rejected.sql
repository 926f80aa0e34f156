{#- Rejected impressions with their reason (docs: _ads__models.yml). -#}
with

checked as (
    select * from {{ ref('base_ads__impressions') }}
),

rejected as (
    select
        impression_id,
        impressed_at,
        ad_id,
        placement,
        device,
        user_id,
        loaded_at
        {{- extra_columns_sql('extra_impression_columns') }},
        rejection_reason
    from checked
    where
        not is_duplicate
        and rejection_reason is not null
)

select * from rejected
