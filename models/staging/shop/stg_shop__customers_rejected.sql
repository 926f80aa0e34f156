with

checked as (
    select * from {{ ref('base_shop__customers') }}
),

rejected as (
    select
        customer_id,
        signed_up_at,
        segment,
        region,
        acquisition_channel,
        rejection_reason
    from checked
    where
        not is_duplicate
        and rejection_reason is not null
)

select * from rejected
