{#- What a user changes to accept rows rejected with a reason: the var, or the upstream table's own rejections. -#}
{% macro staging_reason_fixes() -%}
    {%- set fixes = {
        'event_before_floor': 'lower var staging_min_event_at',
        'amount_above_max': 'raise var staging_max_amount',
        'list_price_above_max': 'raise var staging_max_amount',
        'unknown_customer': 'see the rejections of shop.customers (stg_shop__customers_rejected)',
        'unknown_product': 'see the rejections of shop.products (stg_shop__products_rejected)',
        'unknown_ad': 'see the rejections of ads.ads (stg_ads__ads_rejected)',
        'impression_not_found': 'see the rejections of ads.impressions (stg_ads__impressions_rejected)',
    } -%}
    {%- for column, var_name in warehouse_ml.staging_value_list_vars().items() -%}
        {%- do fixes.update({'invalid_' ~ column: 'widen var ' ~ var_name ~ ' (or set it to null)'}) -%}
    {%- endfor -%}
    {{ return(fixes) }}
{%- endmacro %}
