{#- Raw customers typed, ranked and checked (docs: _shop__models.yml). -#}
{%- set reserved = [
    'customer_id', 'signed_up_at', 'signup_date', 'segment', 'region', 'acquisition_channel',
    'delivery_rank', 'is_duplicate', 'rejection_reason',
] -%}
{%- set user_columns = extra_columns('extra_customer_columns', reserved=reserved) %}

with

source as (
    select * from {{ source('shop', 'customers') }}
),

typed as (
    select
        cast(customer_id as bigint) as customer_id,
        {{ utc_timestamp('signed_up_at') }} as signed_up_at,
        cast(segment as string) as segment,
        cast(region as string) as region,
        cast(acquisition_channel as string) as acquisition_channel{% for column in user_columns %},
        cast({{ column.name }} as {{ column.type }}) as {{ column.name }}{% endfor %}
    from source
),

ranked as (
    select
        *,
        {{ delivery_rank(
            'customer_id',
            ['signed_up_at', 'segment', 'region', 'acquisition_channel']
        ) }} as delivery_rank
    from typed
),

checked as (
    select
        customer_id,
        signed_up_at,
        cast(signed_up_at as date) as signup_date,
        segment,
        region,
        acquisition_channel,
        {%- for column in user_columns %}
        {{ column.name }},
        {%- endfor %}
        delivery_rank,
        {{ is_duplicate('customer_id') }} as is_duplicate,
        {{ rejection_reason(
            [
                ['missing_key', 'customer_id is null'],
                ['missing_timestamp', 'signed_up_at is null'],
            ]
            + event_time_checks('signed_up_at')
            + value_list_checks(['segment', 'region', 'acquisition_channel'])
        ) }} as rejection_reason
    from ranked
)

select * from checked
