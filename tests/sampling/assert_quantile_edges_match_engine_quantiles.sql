{#- The bin edges of sample_representativeness (_sampling_quantile_edges: from distinct values and their
    counts) equal the engine's own discrete quantile over the raw rows (DuckDB quantile_disc, Spark
    percentile_disc), with ties, nulls, negatives, one row, fewer rows than bins, no rows and only nulls.
    Bins 2, 4, 5 and 10 (the default): with 7 bins the engines' functions round 5/7 and pick the next value
    where 5/7 of the rows is a whole number; the macro compares in whole numbers (see its doc).
    The ties case is also checked against hand-computed edges: 1,1,1,2,2,3,5,5,5,5 in 4 bins -> 1, 2, 5. -#}
{%- set mod13 = [] -%}
{%- for i in range(101) -%}{%- do mod13.append((i * 7) % 13) -%}{%- endfor -%}
{%- set cases = [
    {'name': 'ties', 'bins': 4, 'values': [1, 1, 1, 2, 2, 3, 5, 5, 5, 5]},
    {'name': 'nulls', 'bins': 10, 'values': [none, 3, 1, none, 2, 2]},
    {'name': 'negative_and_fractional', 'bins': 4, 'values': [-1.5, 0.25, 0.25, 3, -1.5, 8]},
    {'name': 'one_row', 'bins': 10, 'values': [7]},
    {'name': 'fewer_rows_than_bins', 'bins': 10, 'values': [4, 1, 3, 2, 5, 6, 7]},
    {'name': 'repeating_101_rows', 'bins': 10, 'values': mod13},
    {'name': 'repeating_37_rows_5_bins', 'bins': 5, 'values': mod13[:37]},
    {'name': 'repeating_64_rows_2_bins', 'bins': 2, 'values': mod13[:64]},
    {'name': 'only_nulls', 'bins': 10, 'values': [none, none]},
    {'name': 'no_rows', 'bins': 10, 'values': []},
] -%}
{%- if target.type == 'spark' -%}
    {%- set native_quantile = 'percentile_disc(<q>) within group (order by x)' -%}
{%- else -%}
    {%- set native_quantile = 'quantile_disc(x, <q>)' -%}
{%- endif %}

with
{% for case in cases %}
    {%- set i = loop.index %}
    case_{{ i }}_rows as (
        select cast(x as double) as x
        from (
            values
            {%- if case['values'] | length == 0 %}
                (1)
            {%- else %}
                {%- for value in case['values'] %}
                    ({{ 'null' if value is none else value }}){{ ',' if not loop.last }}
                {%- endfor %}
            {%- endif %}
        ) as case_values (x)  -- noqa: AL05
        {%- if case['values'] | length == 0 %}
            where false
        {%- endif %}
    ),

    case_{{ i }}_value_counts as (
        select
            x as feature_value,
            count(*) as value_rows
        from case_{{ i }}_rows
        group by x
    ),

    case_{{ i }}_edges as (
        {{ warehouse_ml._sampling_quantile_edges('case_' ~ i ~ '_value_counts', case['bins']) }}
    ),

    case_{{ i }}_native as (
        select
            {%- for k in range(1, case['bins']) %}
                {%- set q = (k / case['bins']) | string %}
                {{ native_quantile.replace('<q>', q) }} as edge_{{ k }}
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
        from case_{{ i }}_rows
    ),
{% endfor %}
mismatches as (
    {%- for case in cases %}
        {%- set i = loop.index %}
        {%- for k in range(1, case['bins']) %}
            select
                '{{ case["name"] }}' as case_name,
                {{ k }} as edge_number,
                edges.edge_{{ k }} as macro_edge,
                native.edge_{{ k }} as engine_edge
            from case_{{ i }}_edges as edges
            cross join case_{{ i }}_native as native
            where edges.edge_{{ k }} is distinct from native.edge_{{ k }}
            union all
        {%- endfor %}
    {%- endfor %}
    select
        'ties (hand-computed)' as case_name,
        0 as edge_number,
        cast(null as double) as macro_edge,
        cast(null as double) as engine_edge
    from case_1_edges
    where not (edge_1 = 1 and edge_2 = 2 and edge_3 = 5)
)

select * from mismatches
