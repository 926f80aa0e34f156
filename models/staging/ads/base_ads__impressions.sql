{#- Raw impressions typed, ad-checked, ranked and checked (docs: _ads__models.yml). -#}
{%- set reserved = [
    'impression_id', 'impressed_at', 'impression_date', 'impression_hour', 'ad_id', 'placement', 'device',
    'user_id', 'loaded_at', 'is_late_arriving', 'delivery_rank', 'is_duplicate', 'rejection_reason',
] -%}
{%- set user_columns = extra_columns('extra_impression_columns', reserved=reserved) %}

with

source as (
    select * from {{ source('ads', 'impressions') }}
),

ads as (
    select * from {{ ref('stg_ads__ads') }}
),

typed as (
    select
        cast(impression_id as bigint) as impression_id,
        {{ utc_timestamp('impressed_at') }} as impressed_at,
        cast(ad_id as bigint) as ad_id,
        cast(placement as string) as placement,
        cast(device as string) as device,
        cast(user_id as bigint) as user_id,
        {{ utc_timestamp('loaded_at') }} as loaded_at{% for column in user_columns %},
        cast({{ column.name }} as {{ column.type }}) as {{ column.name }}{% endfor %}
    from source
),

ranked as (
    select
        typed.*,
        ads.ad_id is not null as has_known_ad,
        {{ delivery_rank(
            'typed.impression_id',
            ['typed.loaded_at', 'typed.impressed_at', 'typed.ad_id', 'typed.placement', 'typed.device', 'typed.user_id']
        ) }} as delivery_rank
    from typed
    left join ads
        on typed.ad_id = ads.ad_id
),

checked as (
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
        {{ is_late_arriving('impressed_at', 'loaded_at') }} as is_late_arriving,
        {%- for column in user_columns %}
        {{ column.name }},
        {%- endfor %}
        delivery_rank,
        {{ is_duplicate('impression_id') }} as is_duplicate,
        {{ rejection_reason(
            [
                ['missing_key', 'impression_id is null'],
                ['missing_timestamp', 'impressed_at is null or loaded_at is null'],
            ]
            + event_time_checks('impressed_at', 'loaded_at')
            + [['unknown_ad', 'not has_known_ad']]
            + value_list_checks(['placement', 'device'])
        ) }} as rejection_reason
    from ranked
)

select * from checked
