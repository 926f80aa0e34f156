{#- Grain test: no two rows share the same values in `combination_of_columns`. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- if combination_of_columns is string or combination_of_columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("unique_combination_of_columns on " ~ model ~ ": combination_of_columns must be a non-empty list of column names, got " ~ combination_of_columns) }}
    {%- endif %}

with

grain_counts as (
    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
)

select * from grain_counts
where row_count > 1

{% endtest %}
