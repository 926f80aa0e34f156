{#- The staging pattern of every base_<source>__<table> model: rank deliveries, flag duplicates, name the first failed check (see _staging__macros.yml). -#}

{#- delivery_rank(key_column, order_by): row_number() among the rows sharing a key, earliest first (see _staging__macros.yml). -#}
{% macro delivery_rank(key_column, order_by) -%}
    {%- if order_by is string or order_by | length == 0 -%}
        {{ exceptions.raise_compiler_error("delivery_rank: order_by must be a non-empty list of column names, got " ~ order_by) }}
    {%- endif -%}
    row_number() over (
        partition by {{ key_column }}
        order by {% for column in order_by %}{{ column }} asc nulls last{{ ', ' if not loop.last }}{% endfor %}
    )
{%- endmacro %}

{#- is_duplicate(key_column, rank_column): true for a later delivery of a non-null key. -#}
{% macro is_duplicate(key_column, rank_column='delivery_rank') -%}
    coalesce({{ key_column }} is not null and {{ rank_column }} > 1, false)
{%- endmacro %}

{#- rejection_reason(checks): the reason of the first [reason, failing_condition] pair that fails, null when all pass. -#}
{% macro rejection_reason(checks) -%}
    {%- if checks is string or checks | length == 0 -%}
        {{ exceptions.raise_compiler_error("rejection_reason: checks must be a non-empty list of [reason, failing_condition] pairs, got " ~ checks) }}
    {%- endif -%}
    case
        {%- for check in checks %}
        {%- if check is string or check | length != 2 %}
            {{ exceptions.raise_compiler_error("rejection_reason: each check must be a [reason, failing_condition] pair, got " ~ check) }}
        {%- endif %}
        when {{ check[1] }} then '{{ check[0] }}'
        {%- endfor %}
    end
{%- endmacro %}

{#- is_late_arriving(event_at, loaded_at): loaded more than var('staging_late_arriving_days') days after the event. -#}
{% macro is_late_arriving(event_at, loaded_at) -%}
    coalesce({{ loaded_at }} > {{ warehouse_ml.timestamp_add_days(event_at, warehouse_ml.checked_var('staging_late_arriving_days')) }}, false)
{%- endmacro %}
