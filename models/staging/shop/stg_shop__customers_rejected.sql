{#- Rejected customers with their reason (docs: _shop__models.yml). -#}
{%- set user_columns = extra_columns('extra_customer_columns') %}
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
