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

redelivered_keys as (
    select * from {{ ref('base_ads__impressions_redelivered_keys') }}
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

keyed as (
    select
        typed.*,
        typed.impression_id is null or redelivered_keys.impression_id is not null as is_redelivered
    from typed
    left join redelivered_keys
        on typed.impression_id = redelivered_keys.impression_id
),

{# Only the rows of a key delivered more than once (or without a key) need the window: every other
    row is its key's only delivery, rank 1. Ranks equal those of one window over all rows, without
    sorting the whole table. The ads join and the checks come after the union, so they run once a row.
    What derives from a row alone (impression_date, impression_hour, is_late_arriving) is left to
    stg_ads__impressions: this table is the largest one written, and every column costs its write. #}
single_deliveries as (
    select
        *,
        cast(1 as bigint) as delivery_rank
    from keyed
    where not is_redelivered
),

redeliveries as (
    select
        *,
        {{ delivery_rank(
            'impression_id',
            ['loaded_at', 'impressed_at', 'ad_id', 'placement', 'device', 'user_id']
        ) }} as delivery_rank
    from keyed
    where is_redelivered
),

ranked as (
    select * from single_deliveries
    union all
    select * from redeliveries
),

ranked_with_ads as (
    select
        ranked.*,
        ads.ad_id is not null as has_known_ad
    from ranked
    left join ads
        on ranked.ad_id = ads.ad_id
),

checked as (
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
    from ranked_with_ads
)

select * from checked
