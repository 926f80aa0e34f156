{#- Valid, deduplicated customers (docs: _shop__models.yml). -#}
{%- set user_columns = extra_columns('extra_customer_columns') %}
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
        acquisition_channel{% for column in user_columns %},
        {{ column.name }}{% endfor %}
    from checked
    where
        not is_duplicate
        and rejection_reason is null
)

select * from staged
