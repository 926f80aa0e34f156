{#- Fails when a feature column of feature_columns(feature_set) is null on every row, naming it (see _generic__tests.yml). -#}
{% test feature_columns_not_all_null(model, feature_set) %}
    {%- set features = warehouse_ml.feature_columns(feature_set) -%}
    {%- set columns = features.numeric + features.categorical -%}
    {%- set counts_sql -%}
        select
            count(*) as row_count,
            {%- for column in columns %}
            count({{ column }}) as {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ model }}
    {%- endset -%}
    {#- Under --empty every model is empty by design: the rows below still run (and return none). -#}
    {%- if execute and flags.WHICH in ('test', 'build') and flags.EMPTY is not true -%}
        {%- set counts = run_query(counts_sql).rows[0] -%}
        {%- set all_null = [] -%}
        {%- for column in columns -%}
            {%- if counts[loop.index] == 0 -%}
                {%- do all_null.append(column) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if all_null -%}
            {{ exceptions.raise_compiler_error(
                "feature_columns_not_all_null: in " ~ model ~ " (" ~ counts[0] ~ " rows) the " ~ feature_set
                ~ " feature column(s) " ~ (all_null | join(', ')) ~ " are null on every row; the model would "
                ~ "learn nothing from them. Check the inputs each one is computed from (e.g. ad product categories that "
                ~ "match no product category leave the category-launch features null).") }}
        {%- endif -%}
    {%- endif %}

{#- The same check as rows, for dbt compile / show and as the test's result. #}
with

feature_counts as (
    {{ counts_sql }}
),

all_null_columns as (
    {%- for column in columns %}
        select '{{ column }}' as feature_column, row_count
        from feature_counts
        where {{ column }} = 0
        {%- if not loop.last %}

        union all
        {% endif %}
    {%- endfor %}
)

select * from all_null_columns
{%- if flags.EMPTY is true %}
where row_count > 0  {#- --empty: no rows, so no column is null on every row #}
{%- endif %}

{% endtest %}
