{#- Valid, deduplicated impressions (docs: _ads__models.yml). -#}
{%- set user_columns = extra_columns('extra_impression_columns') %}
with

checked as (
    select * from {{ ref('base_ads__impressions') }}
),

staged as (
    select
        impression_id,
        impressed_at,
        cast(impressed_at as date) as impression_date,
        cast(extract(hour from impressed_at) as integer) as impression_hour,
        ad_id,
        placement,
        device,
        user_id,
        loaded_at,
        {{ is_late_arriving('impressed_at', 'loaded_at') }} as is_late_arriving{% for column in user_columns %},
        {{ column.name }}{% endfor %}
    from checked
    where
        not is_duplicate
        and rejection_reason is null
)

select * from staged
