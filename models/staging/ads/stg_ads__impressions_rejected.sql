{#- Rejected impressions with their reason (docs: _ads__models.yml). -#}
{%- set user_columns = extra_columns('extra_impression_columns') %}
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
        loaded_at,
        {%- for column in user_columns %}
        {{ column.name }},
        {%- endfor %}
        rejection_reason
    from checked
    where
        not is_duplicate
        and rejection_reason is not null
)

select * from rejected
