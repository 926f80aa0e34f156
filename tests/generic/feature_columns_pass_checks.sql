{#- Fails with one row per declared column of a feature set whose declared check fails on some row (see _generic__tests.yml). -#}
{% test feature_columns_pass_checks(model, feature_set) %}
    {%- set checked = warehouse_ml.feature_set_columns(feature_set) | selectattr('check') | list -%}
    {%- if checked | length == 0 -%}
        {{ exceptions.raise_compiler_error("feature_columns_pass_checks on " ~ model ~ ": the " ~ feature_set ~ " declaration has no column with a check") }}
    {%- endif %}

with

violation_counts as (
    select
        {%- for column in checked %}
        sum(case when {{ column.check | replace('{c}', column.name) }} then 0 else 1 end) as {{ column.name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
),

failing_columns as (
    {%- for column in checked %}
        select
            '{{ column.name }}' as column_name,
            {{ sql_string_literal(column.check | replace('{c}', column.name)) }} as failed_check,
            {{ column.name }} as failing_rows
        from violation_counts
        where {{ column.name }} > 0
        {%- if not loop.last %}

        union all
        {% endif %}
    {%- endfor %}
)

select * from failing_columns

{% endtest %}
