{#- sample_representativeness(sample, population, features, weight_column=none, bins=10, population_where=none): means, PSI and KS per feature (see _sampling__macros.yml). -#}
{% macro sample_representativeness(sample, population, features, weight_column=none, bins=10, population_where=none) -%}
    {%- set name = 'sample_representativeness' -%}
    {%- set features = warehouse_ml._sampling_check_columns(name, 'features', features, population) -%}
    {%- do warehouse_ml._sampling_check_whole_number(name, 'bins', bins, 2, maximum=100) -%}
    {%- if weight_column is not none and weight_column is not string -%}
        {{ exceptions.raise_compiler_error(name ~ ": argument `weight_column` must be a column name or none, got " ~ (weight_column | string) ~ ".") }}
    {%- endif -%}
    {{ return(adapter.dispatch('sample_representativeness', 'warehouse_ml')(sample, population, features, weight_column, bins | int, population_where)) }}
{%- endmacro %}

{% macro default__sample_representativeness(sample, population, features, weight_column, bins, population_where) -%}
    {%- set edge_count = bins - 1 %}
    with
    {% for feature in features %}
    {%- set i = loop.index %}
    {#- The population is read once per feature and reduced to its distinct values with their row counts:
        exact, the same SQL on every engine, and memory that grows with distinct values, not rows
        (a quantile aggregate over 100M rows holds them all). -#}
    _sr_population_values_{{ i }} as (
        select
            feature_value,
            count(*) as value_rows
        from (
            select cast({{ feature }} as double) as feature_value
            from {{ population }}
            {%- if population_where %}
            where {{ population_where }}
            {%- endif %}
        ) as population_values
        group by feature_value
    ),

    _sr_edges_{{ i }} as (
        {{ warehouse_ml._sampling_quantile_edges('_sr_population_values_' ~ i, bins) }}
    ),

    _sr_sample_{{ i }} as (
        select
            cast({{ feature }} as double) as feature_value,
            {{ 'cast(' ~ weight_column ~ ' as double)' if weight_column else 'cast(1 as double)' }} as sample_weight
        from {{ sample }}
    ),

    _sr_population_bins_{{ i }} as (
        select
            bin,
            sum(value_rows) as row_count,
            {{ warehouse_ml.exact_decimal_sum('feature_value * value_rows') }} as value_sum,
            sum(case when feature_value is not null then value_rows end) as value_count
        from (
            select
                values_.feature_value,
                values_.value_rows,
                {{ warehouse_ml._sampling_bin_expression(edge_count) }} as bin
            from _sr_population_values_{{ i }} as values_
            cross join _sr_edges_{{ i }} as edges
        ) as binned
        group by bin
    ),

    _sr_sample_bins_{{ i }} as (
        select
            bin,
            count(*) as row_count,
            {{ warehouse_ml.exact_decimal_sum('sample_weight') }} as weight_sum,
            {{ warehouse_ml.exact_decimal_sum('feature_value * sample_weight') }} as weighted_value_sum,
            {{ warehouse_ml.exact_decimal_sum('case when feature_value is not null then sample_weight end') }} as value_weight_sum
        from (
            select
                values_.feature_value,
                values_.sample_weight,
                {{ warehouse_ml._sampling_bin_expression(edge_count) }} as bin
            from _sr_sample_{{ i }} as values_
            cross join _sr_edges_{{ i }} as edges
        ) as binned
        group by bin
    ),

    _sr_shares_{{ i }} as (
        select
            coalesce(population_bins.bin, sample_bins.bin) as bin,
            coalesce(population_bins.row_count, 0) as population_rows,
            coalesce(sample_bins.row_count, 0) as sample_rows,
            population_bins.value_sum,
            population_bins.value_count,
            sample_bins.weighted_value_sum,
            sample_bins.value_weight_sum,
            {{ warehouse_ml.safe_rate('coalesce(population_bins.row_count, 0)', 'sum(coalesce(population_bins.row_count, 0)) over ()') }} as population_share,
            {{ warehouse_ml.safe_rate('coalesce(sample_bins.weight_sum, 0)', 'sum(coalesce(sample_bins.weight_sum, 0)) over ()') }} as sample_share
        from _sr_population_bins_{{ i }} as population_bins
        full outer join _sr_sample_bins_{{ i }} as sample_bins
            on population_bins.bin = sample_bins.bin
    ),

    _sr_cumulative_{{ i }} as (
        select
            *,
            sum(population_share) over (order by bin rows between unbounded preceding and current row) as population_cdf,
            sum(sample_share) over (order by bin rows between unbounded preceding and current row) as sample_cdf
        from _sr_shares_{{ i }}
    ),

    _sr_feature_{{ i }} as (
        select
            '{{ feature }}' as feature_name,
            cast(sum(population_rows) as bigint) as population_rows,
            cast(sum(sample_rows) as bigint) as sample_rows,
            {{ warehouse_ml.safe_rate('sum(value_sum)', 'sum(value_count)') }} as population_mean,
            {{ warehouse_ml.safe_rate('sum(weighted_value_sum)', 'sum(value_weight_sum)') }} as sample_mean,
            {#- PSI with shares floored at 1e-4 (psi_term, shared with distribution_drift), summed exactly. -#}
            {{ warehouse_ml.exact_sum(warehouse_ml.psi_term('sample_share', 'population_share')) }} as psi,
            max(abs(sample_cdf - population_cdf)) as ks_statistic
        from _sr_cumulative_{{ i }}
    ),
    {% endfor %}

    _sr_features as (
        {%- for feature in features %}
        select * from _sr_feature_{{ loop.index }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    )

    select * from _sr_features
{%- endmacro %}


{#- Private: the quantile bin of values_.feature_value given the edges, -1 for null (see _sampling__macros.yml). -#}
{% macro _sampling_bin_expression(edge_count) -%}
    case
        when values_.feature_value is null then -1
        else 0
            {%- for k in range(1, edge_count + 1) %}
            + case when values_.feature_value > edges.edge_{{ k }} then 1 else 0 end
            {%- endfor %}
    end
{%- endmacro %}


{#- Private: the discrete k/bins quantiles of value_counts, compared in whole numbers, per partition_columns (see _sampling__macros.yml). -#}
{% macro _sampling_quantile_edges(value_counts, bins, partition_columns=[]) -%}
    {#- Exact, and spread over executors in two stages. A running sum over all of a feature's values
        in one window has no partition, so Spark moves every distinct value into one task. Instead
        each value gets a value range, a monotone function of the value alone (sign x
        floor(64 ln(1 + |v|)), capped): ranges are intervals of the sorted values, so the running sum
        is the rows of the ranges before (a group by and a window over the ranges, a few hundred
        rows) plus a running sum inside the range (a window partitioned by range). The edges are
        exact whatever the ranges are: only the balance of the work depends on them, so an engine's
        last bit of ln() cannot move an edge. -#}
    {%- set partition_list = partition_columns | join(', ') -%}
    {%- set by_partition = partition_list ~ ', ' if partition_columns else '' -%}
    {%- set ranged_values -%}
        select
            {{ by_partition }}feature_value,
            value_rows,
            case when feature_value < 0 then -1 else 1 end
            * floor(least(ln(1 + abs(feature_value)) * 64, 1000000)) as value_range
        from {{ value_counts }}
        where feature_value is not null
    {%- endset %}
    select
        {%- for column in partition_columns %}
        {{ column }},
        {%- endfor %}
        {%- for k in range(1, bins) %}
        min(case when cumulative_rows * {{ bins }} >= non_null_rows * {{ k }} then feature_value end) as edge_{{ k }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select
            {%- for column in partition_columns %}
            ranged.{{ column }},
            {%- endfor %}
            ranged.feature_value,
            ranges.rows_before
            + sum(ranged.value_rows) over (partition by {% for column in partition_columns %}ranged.{{ column }}, {% endfor %}ranged.value_range order by ranged.feature_value rows between unbounded preceding and current row) as cumulative_rows,
            ranges.non_null_rows
        from ({{ ranged_values }}
        ) as ranged
        inner join (
            select
                {{ by_partition }}value_range,
                coalesce(sum(range_rows) over ({{ 'partition by ' ~ partition_list ~ ' ' if partition_columns else '' }}order by value_range rows between unbounded preceding and 1 preceding), 0) as rows_before,
                sum(range_rows) over ({{ 'partition by ' ~ partition_list if partition_columns else '' }}) as non_null_rows
            from (
                select
                    {{ by_partition }}value_range,
                    sum(value_rows) as range_rows
                from ({{ ranged_values }}
                ) as ranged_for_counts
                group by {{ by_partition }}value_range
            ) as range_counts
        ) as ranges
            on {% for column in partition_columns %}ranged.{{ column }} is not distinct from ranges.{{ column }} and {% endfor %}ranged.value_range = ranges.value_range
    ) as cumulative_values
    {%- if partition_columns %}
    group by {{ partition_list }}
    {%- endif %}
{%- endmacro %}
