{#- staging_reason_vars(): the vars a user changes to accept rows rejected with each reason (for messages). -#}
{% macro staging_reason_vars() -%}
    {%- set reason_vars = {
        'event_before_floor': 'staging_min_event_at',
        'amount_above_max': 'staging_max_amount',
        'list_price_above_max': 'staging_max_amount',
    } -%}
    {%- for column, var_name in warehouse_ml.staging_value_list_vars().items() -%}
        {%- do reason_vars.update({'invalid_' ~ column: var_name}) -%}
    {%- endfor -%}
    {{ return(reason_vars) }}
{%- endmacro %}
