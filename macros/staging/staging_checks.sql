{#- The staging pattern, shared by every base_<source>__<table> model: rank the deliveries of each key,
    flag the later ones as duplicates, and name the first check a row fails. stg_<source>__<table>
    keeps the rows that are neither; <stg model>_rejected keeps the failed ones with their reason. -#}

{#- delivery_rank(key_column, order_by): row_number() of a row among the rows sharing its key, earliest
    first by the `order_by` columns (nulls last on every engine). -#}
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

{#- rejection_reason(checks): the reason of the first check that fails, null when all pass.
    `checks` is a list of [reason, failing_condition] pairs, tested in order. -#}
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

{#- is_late_arriving(event_at, loaded_at): the row reached the warehouse more than
    var('staging_late_arriving_days') days after the event. -#}
{% macro is_late_arriving(event_at, loaded_at) -%}
    coalesce({{ loaded_at }} > {{ warehouse_ml.timestamp_add_days(event_at, var('staging_late_arriving_days')) }}, false)
{%- endmacro %}
