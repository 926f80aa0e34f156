with

checked as (
    select * from {{ ref('base_shop__customers') }}
),

staged as (
    select
        customer_id,
        signed_up_at,
        signup_date,
        segment,
        region,
        acquisition_channel
    from checked
    where
        not is_duplicate
        and rejection_reason is null
)

select * from staged
