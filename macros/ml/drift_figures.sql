{#- drift_rows(relation, side, features, value_type, strata=[], weight_column=none, labels={}, cluster_column=none): one feature value a row, overall and per stratum (see _ml__macros.yml). -#}
{% macro drift_rows(relation, side, features, value_type, strata=[], weight_column=none, labels={}, cluster_column=none) -%}
    {%- set name = 'drift_rows' -%}
    {%- if side not in ['reference', 'current'] -%}
        {{ exceptions.raise_compiler_error(name ~ ": side must be 'reference' or 'current', got '" ~ side ~ "'") }}
    {%- endif -%}
    {%- if value_type not in ['double', 'string'] -%}
        {{ exceptions.raise_compiler_error(name ~ ": value_type must be 'double' or 'string', got '" ~ value_type ~ "'") }}
    {%- endif -%}
    {%- if features is string or features | length == 0 -%}
        {{ exceptions.raise_compiler_error(name ~ ": features must be a non-empty list of column names, got " ~ features) }}
    {%- endif -%}
    {%- if strata is string -%}
        {{ exceptions.raise_compiler_error(name ~ ": strata must be a list of column names, got '" ~ strata ~ "'") }}
    {%- endif -%}
    {%- for feature in features -%}
        {%- for stratum in [none] + (strata | list) %}
    select
        {%- for column, value in labels.items() %}
        {{ warehouse_ml.sql_string_literal(value) }} as {{ column }},
        {%- endfor %}
        {{ warehouse_ml.sql_string_literal(stratum or '__all__') }} as stratum_column,
        {{ "coalesce(cast(" ~ stratum ~ " as string), '__null__')" if stratum else "'__all__'" }} as stratum_value,
        {{ warehouse_ml.sql_string_literal(feature) }} as feature,
        {{ 0 if side == 'reference' else 1 }} as side,
        cast({{ feature }} as {{ value_type }}) as feature_value,
        {{ 'cast(' ~ weight_column ~ ' as double)' if weight_column else 'cast(1 as double)' }} as row_weight,
        {{ 'cast(' ~ cluster_column ~ ' as string)' if cluster_column else 'cast(null as string)' }} as cluster_key
    from {{ relation }}
            {%- if not loop.last %}
    union all
            {%- endif %}
        {%- endfor %}
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}


{#- distribution_drift(rows, partition_columns, kind, bins=10, confidence_z=3.090232, psi_floor=0.1, cluster_column=none): PSI with its noise threshold, JS, standardised mean difference and KS per partition (see _ml__macros.yml). -#}
{% macro distribution_drift(rows, partition_columns, kind, bins=10, confidence_z=3.090232, psi_floor=0.1, cluster_column=none) -%}
    {%- set name = 'distribution_drift' -%}
    {%- if kind not in ['numeric', 'categorical'] -%}
        {{ exceptions.raise_compiler_error(name ~ ": kind must be 'numeric' or 'categorical', got '" ~ kind ~ "'") }}
    {%- endif -%}
    {%- if partition_columns is string or partition_columns | length == 0 -%}
        {{ exceptions.raise_compiler_error(name ~ ": partition_columns must be a non-empty list of column names, got " ~ partition_columns) }}
    {%- endif -%}
    {%- do warehouse_ml._sampling_check_whole_number(name, 'bins', bins, 2, maximum=100) -%}
    {%- for argument, value in {'confidence_z': confidence_z, 'psi_floor': psi_floor}.items() -%}
        {%- if value is not number or value < 0 -%}
            {{ exceptions.raise_compiler_error(name ~ ": " ~ argument ~ " must be a number >= 0, got " ~ value) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(adapter.dispatch('distribution_drift', 'warehouse_ml')(rows, partition_columns | list, kind, bins | int, confidence_z, psi_floor, cluster_column)) }}
{%- endmacro %}

{% macro default__distribution_drift(rows, partition_columns, kind, bins, confidence_z, psi_floor, cluster_column=none) -%}
    {%- set keys = partition_columns | join(', ') -%}
    {%- set join_on = [] -%}
    {%- for column in partition_columns -%}
        {%- do join_on.append('{a}.' ~ column ~ ' = {b}.' ~ column) -%}
    {%- endfor -%}
    {%- set join_on = join_on | join(' and ') -%}
    {#- Rows are first reduced to their distinct values (exact counts); every float sum goes through
        exact_sum, so on DuckDB the figures are the same bit for bit at any thread count. -#}
    with

    _dd_values as (
        select
            {{ keys }},
            side,
            feature_value,
            count(*) as value_rows,
            {{ warehouse_ml.exact_sum('row_weight') }} as value_weight,
            {{ warehouse_ml.exact_sum('row_weight * row_weight') }} as value_weight_squared
        from {{ rows }}
        group by {{ keys }}, side, feature_value
    ),

    _dd_totals as (
        select
            {{ keys }},
            cast(sum(case when side = 0 then value_rows else 0 end) as bigint) as reference_rows,
            cast(sum(case when side = 1 then value_rows else 0 end) as bigint) as current_rows,
            {{ warehouse_ml.exact_sum('case when side = 0 then value_weight else 0 end') }} as reference_weight,
            {{ warehouse_ml.exact_sum('case when side = 0 then value_weight_squared else 0 end') }} as reference_weight_squared,
            {{ warehouse_ml.exact_sum('case when side = 1 then value_weight else 0 end') }} as current_weight
        from _dd_values
        group by {{ keys }}
    ),

    {#- Rows of one cluster (cluster_column: a customer at many dates, an ad's impressions) are not
        independent: the effective rows are Kish's over cluster totals, (sum w)^2 / sum (cluster w)^2;
        a row with no cluster_key is its own cluster. -#}
    _dd_cluster_weights as (
        {%- if cluster_column %}
        select
            {{ keys }},
            side,
            {{ warehouse_ml.exact_sum('row_weight') }} as cluster_weight
        from {{ rows }}
        where {{ cluster_column }} is not null
        group by {{ keys }}, side, {{ cluster_column }}

        union all
        {%- endif %}

        select
            {{ keys }},
            side,
            row_weight as cluster_weight
        from {{ rows }}
        {%- if cluster_column %}
        where {{ cluster_column }} is null
        {%- endif %}
    ),

    _dd_effective as (
        select
            {{ keys }},
            {{ warehouse_ml.exact_sum('case when side = 0 then cluster_weight * cluster_weight else 0 end') }} as reference_cluster_squared,
            {{ warehouse_ml.exact_sum('case when side = 1 then cluster_weight * cluster_weight else 0 end') }} as current_cluster_squared
        from _dd_cluster_weights
        group by {{ keys }}
    ),
    {%- if kind == 'numeric' %}

    _dd_reference_values as (
        select
            {{ keys }},
            feature_value,
            value_rows
        from _dd_values
        where side = 0
    ),

    _dd_edges as (
        {{ warehouse_ml._sampling_quantile_edges('_dd_reference_values', bins, partition_columns) }}
    ),

    _dd_binned as (
        select
            {%- for column in partition_columns %}
            values_.{{ column }},
            {%- endfor %}
            values_.side,
            values_.feature_value,
            values_.value_weight,
            {{ warehouse_ml._sampling_bin_expression(bins - 1) }} as bin
        from _dd_values as values_
        left join _dd_edges as edges
            on {{ join_on.format(a='values_', b='edges') }}
    ),

    _dd_moments as (
        select
            {{ keys }},
            {%- for side, prefix in [(0, 'reference'), (1, 'current')] %}
            {{ warehouse_ml.exact_sum('case when side = ' ~ side ~ ' and feature_value is not null then value_weight else 0 end') }} as {{ prefix }}_value_weight,
            {{ warehouse_ml.exact_sum('case when side = ' ~ side ~ ' then value_weight * feature_value else 0 end') }} as {{ prefix }}_value_sum,
            {{ warehouse_ml.exact_sum('case when side = ' ~ side ~ ' then value_weight * feature_value * feature_value else 0 end') }} as {{ prefix }}_square_sum{{ ',' if not loop.last }}
            {%- endfor %}
        from _dd_values
        group by {{ keys }}
    ),

    _dd_moment_figures as (
        select
            {{ keys }},
            {{ warehouse_ml.safe_rate('reference_value_sum', 'reference_value_weight') }} as reference_mean,
            {{ warehouse_ml.safe_rate('current_value_sum', 'current_value_weight') }} as current_mean,
            greatest({{ warehouse_ml.safe_rate('reference_square_sum', 'reference_value_weight') }}
                - power({{ warehouse_ml.safe_rate('reference_value_sum', 'reference_value_weight') }}, 2), 0) as reference_variance,
            greatest({{ warehouse_ml.safe_rate('current_square_sum', 'current_value_weight') }}
                - power({{ warehouse_ml.safe_rate('current_value_sum', 'current_value_weight') }}, 2), 0) as current_variance
        from _dd_moments
    ),
    {%- else %}

    _dd_binned as (
        select
            {{ keys }},
            side,
            feature_value,
            value_weight,
            coalesce(feature_value, '__null__') as bin
        from _dd_values
    ),
    {%- endif %}

    _dd_bins as (
        select
            {{ keys }},
            bin,
            {{ warehouse_ml.exact_sum('case when side = 0 then value_weight else 0 end') }} as reference_bin_weight,
            {{ warehouse_ml.exact_sum('case when side = 1 then value_weight else 0 end') }} as current_bin_weight
        from _dd_binned
        group by {{ keys }}, bin
    ),

    _dd_shares as (
        select
            {%- for column in partition_columns %}
            bins.{{ column }},
            {%- endfor %}
            bins.bin,
            coalesce({{ warehouse_ml.safe_rate('bins.reference_bin_weight', 'totals.reference_weight') }}, 0) as reference_share,
            coalesce({{ warehouse_ml.safe_rate('bins.current_bin_weight', 'totals.current_weight') }}, 0) as current_share
        from _dd_bins as bins
        inner join _dd_totals as totals
            on {{ join_on.format(a='bins', b='totals') }}
    ),

    _dd_cumulative as (
        select
            *,
            (reference_share + current_share) / 2 as mixture_share,
            sum(reference_share) over (partition by {{ keys }} order by bin rows between unbounded preceding and current row) as reference_cdf,
            sum(current_share) over (partition by {{ keys }} order by bin rows between unbounded preceding and current row) as current_cdf
        from _dd_shares
    ),

    _dd_bin_figures as (
        select
            {{ keys }},
            cast(count(case when reference_share > 0 or current_share > 0 then 1 end) as bigint) as occupied_bins,
            {{ warehouse_ml.exact_sum(warehouse_ml.psi_term('current_share', 'reference_share')) }} as psi,
            {{ warehouse_ml.exact_sum(
                '(case when reference_share > 0 then reference_share * ln(reference_share / mixture_share) else 0 end'
                ~ ' + case when current_share > 0 then current_share * ln(current_share / mixture_share) else 0 end) / (2 * ln(2))'
            ) }} as js_divergence,
            max(abs(current_cdf - reference_cdf)) as ks_statistic
        from _dd_cumulative
        group by {{ keys }}
    ),

    _dd_figures as (
        select
            {%- for column in partition_columns %}
            totals.{{ column }},
            {%- endfor %}
            totals.reference_rows,
            totals.current_rows,
            case when totals.reference_rows > 0 and totals.current_rows > 0 then figures.psi end as psi,
            {{ warehouse_ml.psi_noise_threshold(
                'greatest(figures.occupied_bins, 2) - 1',
                warehouse_ml.safe_rate('totals.reference_weight * totals.reference_weight', 'effective.reference_cluster_squared'),
                warehouse_ml.safe_rate('totals.current_weight * totals.current_weight', 'effective.current_cluster_squared'),
                confidence_z, psi_floor) }} as psi_threshold,
            {%- if kind == 'categorical' %}
            case when totals.reference_rows > 0 and totals.current_rows > 0 then figures.js_divergence end as js_divergence,
            cast(null as double) as mean_difference,
            cast(null as double) as ks_statistic
            {%- else %}
            cast(null as double) as js_divergence,
            (moments.current_mean - moments.reference_mean)
                / nullif(sqrt((moments.reference_variance + moments.current_variance) / 2), 0) as mean_difference,
            case when totals.reference_rows > 0 and totals.current_rows > 0 then figures.ks_statistic end as ks_statistic
            {%- endif %}
        from _dd_totals as totals
        inner join _dd_effective as effective
            on {{ join_on.format(a='totals', b='effective') }}
        left join _dd_bin_figures as figures
            on {{ join_on.format(a='totals', b='figures') }}
        {%- if kind == 'numeric' %}
        left join _dd_moment_figures as moments
            on {{ join_on.format(a='totals', b='moments') }}
        {%- endif %}
    ),

    _dd_drift as (
        select
            *,
            coalesce(psi > psi_threshold, false) as is_drifted
        from _dd_figures
    )

    select * from _dd_drift
{%- endmacro %}


{#- psi_term(share_a, share_b): one bin's PSI term, shares floored at 1e-4 so an empty bin gives a large but finite term (shared with sample_representativeness). -#}
{% macro psi_term(share_a, share_b) -%}
    (greatest({{ share_a }}, 0.0001) - greatest({{ share_b }}, 0.0001)) * ln(greatest({{ share_a }}, 0.0001) / greatest({{ share_b }}, 0.0001))
{%- endmacro %}


{#- psi_noise_threshold(degrees_of_freedom, reference_rows, current_rows, confidence_z, psi_floor): the PSI two samples of these sizes reach by chance at the stated confidence, at least psi_floor (see _ml__macros.yml). -#}
{% macro psi_noise_threshold(degrees_of_freedom, reference_rows, current_rows, confidence_z, psi_floor) -%}
    {#- Same distribution: PSI x n m / (n + m) is about chi-square(df); its quantile by Wilson-Hilferty. -#}
    {%- set df = 'cast(' ~ degrees_of_freedom ~ ' as double)' %}
    greatest(
        cast({{ psi_floor }} as double),
        {{ df }}
        * power(1 - 2 / (9 * {{ df }}) + cast({{ confidence_z }} as double) * sqrt(2 / (9 * {{ df }})), 3)
        * (1 / nullif(cast({{ reference_rows }} as double), 0) + 1 / nullif(cast({{ current_rows }} as double), 0))
    )
{%- endmacro %}
