{#- sample_representativeness(sample, population, features, weight_column=none, bins=10, population_where=none, cluster_column=none, alpha=0.001): means, rates with their design interval, PSI and KS with size-scaled thresholds per feature (see _sampling__macros.yml). -#}
{% macro sample_representativeness(sample, population, features, weight_column=none, bins=10, population_where=none, cluster_column=none, alpha=0.001) -%}
    {%- set name = 'sample_representativeness' -%}
    {%- set features = warehouse_ml._sampling_check_columns(name, 'features', features, population) -%}
    {%- do warehouse_ml._sampling_check_whole_number(name, 'bins', bins, 2, maximum=100) -%}
    {%- for argument, value in {'weight_column': weight_column, 'cluster_column': cluster_column}.items() -%}
        {%- if value is not none and value is not string -%}
            {{ exceptions.raise_compiler_error(name ~ ": argument `" ~ argument ~ "` must be a column name or none, got " ~ (value | string) ~ ".") }}
        {%- endif -%}
    {%- endfor -%}
    {%- if alpha is boolean or alpha is not number or alpha <= 0 or alpha >= 1 -%}
        {{ exceptions.raise_compiler_error(name ~ ": argument `alpha` must be a number in (0, 1), the chance that an honest sample fails a check of this call, got " ~ (alpha | string) ~ ". Pass e.g. alpha=0.001.") }}
    {%- endif -%}
    {{ return(adapter.dispatch('sample_representativeness', 'warehouse_ml')(sample, population, features, weight_column, bins | int, population_where, cluster_column, alpha)) }}
{%- endmacro %}

{% macro default__sample_representativeness(sample, population, features, weight_column, bins, population_where, cluster_column=none, alpha=0.001) -%}
    {%- set edge_count = bins - 1 %}
    {#- Three checks a feature (PSI, KS, the mean or rate), alpha shared among all of them. -#}
    {%- set critical = warehouse_ml._sampling_critical_values(alpha, 3 * (features | length), bins) -%}
    {%- set weight_expression = 'cast(' ~ weight_column ~ ' as double)' if weight_column else 'cast(1 as double)' -%}
    {%- set cluster_expression = 'cast(' ~ cluster_column ~ ' as string)' if cluster_column else 'cast(null as string)' %}
    {#- The design's effective sizes, for every feature: Kish's (sum w)^2 / sum of squared cluster weights in the
        sample, (rows)^2 / sum of squared cluster rows in the population; a row without a cluster is its own. #}
    with

    _sr_sample_units as (
        select
            {{ cluster_expression }} as cluster_key,
            {{ weight_expression }} as sample_weight
        from {{ sample }}
    ),

    _sr_sample_design as (
        select
            {{ warehouse_ml.exact_sum('unit_weight') }} as weight_sum,
            {{ warehouse_ml.exact_sum('unit_weight * unit_weight') }} as unit_weight_squared_sum
        from (
            select {{ warehouse_ml.exact_sum('sample_weight') }} as unit_weight
            from _sr_sample_units
            where cluster_key is not null
            group by cluster_key
            union all
            select sample_weight as unit_weight
            from _sr_sample_units
            where cluster_key is null
        ) as sample_units
    ),

    _sr_population_design as (
        select
            cast(sum(unit_rows) as double) as population_unit_rows,
            cast(sum(unit_rows * unit_rows) as double) as unit_rows_squared_sum
        from (
            {%- if cluster_column %}
            select count(*) as unit_rows
            from {{ population }}
            where {{ cluster_column }} is not null{{ ' and (' ~ population_where ~ ')' if population_where }}
            group by {{ cluster_column }}
            union all
            select cast(1 as bigint) as unit_rows
            from {{ population }}
            where {{ cluster_column }} is null{{ ' and (' ~ population_where ~ ')' if population_where }}
            {%- else %}
            select cast(1 as bigint) as unit_rows
            from {{ population }}
            {%- if population_where %}
            where {{ population_where }}
            {%- endif %}
            {%- endif %}
        ) as population_units
    ),

    _sr_design as (
        select
            {{ warehouse_ml.safe_rate('sample_design.weight_sum * sample_design.weight_sum', 'sample_design.unit_weight_squared_sum') }} as effective_sample_rows,
            {{ warehouse_ml.safe_rate('population_design.population_unit_rows * population_design.population_unit_rows', 'population_design.unit_rows_squared_sum') }} as effective_population_rows
        from _sr_sample_design as sample_design
        cross join _sr_population_design as population_design
    ),

    {#- Chance variation of a share between a sample of n effective rows and the N it was drawn from scales with
        1/n - 1/N (with the finite-population correction; 0 when the sample is the population). -#}
    _sr_noise as (
        select
            effective_sample_rows,
            effective_population_rows,
            greatest(
                coalesce(1 / nullif(effective_sample_rows, 0), 0) - coalesce(1 / nullif(effective_population_rows, 0), 0),
                0
            ) as share_variance_factor
        from _sr_design
    ),
    {#- Every feature in one pass, in long form: each row of the population (and of the sample) is read
        once and crossed with the feature list, a value a row, so the query is the same size whatever the
        number of features and every step below is partitioned by feature_index (the plan of one query
        per feature grew with the feature count: minutes of Spark planning and a 3g driver out of heap).
        The population is reduced to its distinct values with their row counts: exact, the same SQL on
        every engine, and memory that grows with distinct values, not rows (a quantile aggregate over
        100M rows holds them all). Every figure is the same expression as per feature, summed exactly,
        so the figures do not depend on the form. -#}
    _sr_feature_names as (
        select * from (
            values
            {%- for feature in features %}
            ({{ loop.index }}, {{ warehouse_ml.sql_string_literal(feature) }}){{ ',' if not loop.last }}
            {%- endfor %}
        ) as feature_names (feature_index, feature_name)
    ),

    _sr_population_values as (
        select
            feature_index,
            feature_value,
            count(*) as value_rows
        from (
            select
                feature_names.feature_index,
                {{ warehouse_ml._sampling_feature_value('population_rows', features) }} as feature_value
            from (
                select * from {{ population }}
                {%- if population_where %}
                where {{ population_where }}
                {%- endif %}
            ) as population_rows
            cross join _sr_feature_names as feature_names
        ) as population_values
        group by feature_index, feature_value
    ),

    _sr_edges as (
        {{ warehouse_ml._sampling_quantile_edges('_sr_population_values', bins, ['feature_index']) }}
    ),

    {#- Binary: every non-null population value is 0 or 1 (a boolean, a 0/1 label). -#}
    _sr_population_mean as (
        select
            feature_index,
            {{ warehouse_ml.safe_rate(warehouse_ml.exact_decimal_sum('feature_value * value_rows'), 'sum(case when feature_value is not null then value_rows end)') }} as population_mean,
            coalesce(sum(case when feature_value is not null then value_rows end), 0) > 0
            and coalesce(sum(case when feature_value not in (0, 1) then value_rows end), 0) = 0 as is_binary
        from _sr_population_values
        group by feature_index
    ),

    _sr_sample as (
        select
            feature_names.feature_index,
            {{ warehouse_ml._sampling_feature_value('sample_rows', features) }} as feature_value,
            {{ 'cast(sample_rows.' ~ weight_column ~ ' as double)' if weight_column else weight_expression }} as sample_weight,
            {{ 'cast(sample_rows.' ~ cluster_column ~ ' as string)' if cluster_column else cluster_expression }} as cluster_key
        from {{ sample }} as sample_rows
        cross join _sr_feature_names as feature_names
    ),

    {#- Design variance of the weighted mean (a rate, for a binary feature), by Taylor linearisation of the ratio
        under Poisson sampling of the units (rows, or clusters): the sum over sampled units of
        (1 - 1/w) x (sum of w (x - population mean))^2, over the squared weight of the non-null rows. -#}
    _sr_value_units as (
        select
            feature_index,
            max(sample_weight) as unit_weight,
            {{ warehouse_ml.exact_sum('case when feature_value is not null then sample_weight * feature_value end') }} as weighted_value_sum,
            {{ warehouse_ml.exact_sum('case when feature_value is not null then sample_weight end') }} as value_weight_sum
        from _sr_sample
        where cluster_key is not null
        group by feature_index, cluster_key
        union all
        select
            feature_index,
            sample_weight as unit_weight,
            case when feature_value is not null then sample_weight * feature_value end as weighted_value_sum,
            case when feature_value is not null then sample_weight end as value_weight_sum
        from _sr_sample
        where cluster_key is null
    ),

    _sr_mean_variance as (
        select
            units.feature_index,
            {{ warehouse_ml.exact_sum(
                'greatest(1 - 1 / units.unit_weight, 0)'
                ~ ' * (coalesce(units.weighted_value_sum, 0) - population.population_mean * coalesce(units.value_weight_sum, 0))'
                ~ ' * (coalesce(units.weighted_value_sum, 0) - population.population_mean * coalesce(units.value_weight_sum, 0))'
            ) }} as linearised_variance_sum
        from _sr_value_units as units
        inner join _sr_population_mean as population
            on units.feature_index = population.feature_index
        group by units.feature_index
    ),

    {#- A feature without a non-null population value has no edges row: its values are null (bin -1). -#}
    _sr_population_bins as (
        select
            feature_index,
            bin,
            sum(value_rows) as row_count
        from (
            select
                values_.feature_index,
                values_.value_rows,
                {{ warehouse_ml._sampling_bin_expression(edge_count) }} as bin
            from _sr_population_values as values_
            left join _sr_edges as edges
                on values_.feature_index = edges.feature_index
        ) as binned
        group by feature_index, bin
    ),

    _sr_sample_bins as (
        select
            feature_index,
            bin,
            count(*) as row_count,
            {{ warehouse_ml.exact_decimal_sum('sample_weight') }} as weight_sum,
            {{ warehouse_ml.exact_decimal_sum('feature_value * sample_weight') }} as weighted_value_sum,
            {{ warehouse_ml.exact_decimal_sum('case when feature_value is not null then sample_weight end') }} as value_weight_sum
        from (
            select
                values_.feature_index,
                values_.feature_value,
                values_.sample_weight,
                {{ warehouse_ml._sampling_bin_expression(edge_count) }} as bin
            from _sr_sample as values_
            left join _sr_edges as edges
                on values_.feature_index = edges.feature_index
        ) as binned
        group by feature_index, bin
    ),

    _sr_joined_bins as (
        select
            coalesce(population_bins.feature_index, sample_bins.feature_index) as feature_index,
            coalesce(population_bins.bin, sample_bins.bin) as bin,
            population_bins.row_count as population_row_count,
            sample_bins.row_count as sample_row_count,
            sample_bins.weight_sum as sample_weight_sum,
            sample_bins.weighted_value_sum,
            sample_bins.value_weight_sum
        from _sr_population_bins as population_bins
        full outer join _sr_sample_bins as sample_bins
            on
                population_bins.feature_index = sample_bins.feature_index
                and population_bins.bin = sample_bins.bin
    ),

    _sr_shares as (
        select
            feature_index,
            bin,
            coalesce(population_row_count, 0) as population_rows,
            coalesce(sample_row_count, 0) as sample_rows,
            weighted_value_sum,
            value_weight_sum,
            {{ warehouse_ml.safe_rate('coalesce(population_row_count, 0)', 'sum(coalesce(population_row_count, 0)) over (partition by feature_index)') }} as population_share,
            {{ warehouse_ml.safe_rate('coalesce(sample_weight_sum, 0)', 'sum(coalesce(sample_weight_sum, 0)) over (partition by feature_index)') }} as sample_share
        from _sr_joined_bins
    ),

    _sr_cumulative as (
        select
            *,
            sum(population_share) over (partition by feature_index order by bin rows between unbounded preceding and current row) as population_cdf,
            sum(sample_share) over (partition by feature_index order by bin rows between unbounded preceding and current row) as sample_cdf
        from _sr_shares
    ),

    _sr_bin_figures as (
        select
            feature_index,
            cast(sum(population_rows) as bigint) as population_rows,
            cast(sum(sample_rows) as bigint) as sample_rows,
            {{ warehouse_ml.safe_rate('sum(weighted_value_sum)', 'sum(value_weight_sum)') }} as sample_mean,
            {{ warehouse_ml.exact_sum('value_weight_sum') }} as sample_value_weight,
            {#- PSI with shares floored at 1e-4 (psi_term, shared with distribution_drift), summed exactly. -#}
            {{ warehouse_ml.exact_sum(warehouse_ml.psi_term('sample_share', 'population_share')) }} as psi,
            max(abs(sample_cdf - population_cdf)) as ks_statistic,
            greatest(count(case when population_rows > 0 then 1 end), 2) - 1 as degrees_of_freedom
        from _sr_cumulative
        group by feature_index
    ),

    {#- Driven by the feature list, so a feature of an empty population and sample still gets its row (with the
        figures an aggregate over no rows gives: null sums, 1 degree of freedom, not binary). -#}
    _sr_feature as (
        select
            feature_names.feature_name,
            figures.population_rows,
            figures.sample_rows,
            population.population_mean,
            figures.sample_mean,
            figures.psi,
            figures.ks_statistic,
            coalesce(population.is_binary, false) as is_binary,
            sqrt(variance.linearised_variance_sum) / nullif(figures.sample_value_weight, 0) as mean_standard_error,
            noise.effective_sample_rows,
            noise.effective_population_rows,
            case coalesce(figures.degrees_of_freedom, 1)
                {%- for df, quantile in critical.chi_square.items() %}
                when {{ df }} then cast({{ '%.17g' | format(quantile) }} as double)
                {%- endfor %}
            end * noise.share_variance_factor as psi_threshold,
            cast({{ '%.17g' | format(critical.ks_c) }} as double) * sqrt(noise.share_variance_factor) as ks_threshold
        from _sr_feature_names as feature_names
        left join _sr_bin_figures as figures
            on feature_names.feature_index = figures.feature_index
        left join _sr_population_mean as population
            on feature_names.feature_index = population.feature_index
        left join _sr_mean_variance as variance
            on feature_names.feature_index = variance.feature_index
        cross join _sr_noise as noise
    ),

    _sr_features as (
        select
            *,
            {#- The interval an honest sample's rate falls in: population rate +- z standard errors of the design. -#}
            case when is_binary then population_mean - cast({{ '%.17g' | format(critical.rate_z) }} as double) * mean_standard_error end as rate_interval_lower,
            case when is_binary then population_mean + cast({{ '%.17g' | format(critical.rate_z) }} as double) * mean_standard_error end as rate_interval_upper,
            cast({{ '%.17g' | format(critical.per_check_alpha) }} as double) as check_alpha
        from _sr_feature
    )

    select * from _sr_features
{%- endmacro %}


{#- Private: the value of feature number feature_names.feature_index of a row of `rows`, as a double (see _sampling__macros.yml). -#}
{% macro _sampling_feature_value(rows, features) -%}
    case feature_names.feature_index
        {%- for feature in features %}
        when {{ loop.index }} then cast({{ rows }}.{{ feature }} as double)
        {%- endfor %}
    end
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
