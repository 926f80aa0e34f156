{#- stratified_sample(relation, strata, key_columns, seed, fraction=none, allocation='proportional',
    sample_size=none, min_per_stratum=0, exact=false, mode='native'): a seeded-hash sample drawn
    separately in every stratum (combination of `strata` values), so small or new strata are not starved.

    allocation     'proportional': each stratum at the same rate, `fraction` (or `sample_size` / N);
                   'equal': the same count in every stratum, `sample_size` / H (or fraction * N / H);
                   a mapping {'<value1>|<value2>': rate}: an explicit rate per stratum (keys are the strata
                   values joined by '|'); strata not in the mapping get `fraction`, or are dropped if none.
    min_per_stratum every stratum gets at least this many rows (capped at its size). A stratum with fewer
                   rows than min_per_stratum fails the query at run time with a message naming it.
    exact          false: every row is kept independently with its stratum's rate (sizes are binomial
                   around the target; the minimum holds in expectation). true: exactly n_h rows per
                   stratum, the n_h with the smallest seeded hash (the minimum is guaranteed).
    Adds `inclusion_probability` (n_h / N_h) and `sample_weight` (its inverse), so weighted sums estimate
    population totals. Rows are picked by seeded_uniform(key_columns, seed, mode): the same rows at every
    thread count and in every physical order.
-#}
{% macro stratified_sample(relation, strata, key_columns, seed, fraction=none, allocation='proportional', sample_size=none, min_per_stratum=0, exact=false, mode='native') -%}
    {%- set name = 'stratified_sample' -%}
    {%- set strata = warehouse_ml._sampling_check_columns(name, 'strata', strata, relation) -%}
    {%- set key_columns = warehouse_ml._sampling_check_columns(name, 'key_columns', key_columns, relation) -%}
    {%- set seed = warehouse_ml._sampling_check_seed(name, seed) -%}
    {%- set mode = warehouse_ml._sampling_check_choice(name, 'mode', mode, ['native', 'portable']) -%}
    {%- if fraction is not none -%}
        {%- set fraction = warehouse_ml._sampling_check_fraction(name, 'fraction', fraction) -%}
    {%- endif -%}
    {%- if sample_size is not none and (sample_size is boolean or sample_size is not number or sample_size != (sample_size | int) or sample_size < 1) -%}
        {{ exceptions.raise_compiler_error(name ~ ": argument `sample_size` must be a whole number >= 1 or none, got " ~ (sample_size | string) ~ ".") }}
    {%- endif -%}
    {%- if min_per_stratum is none or min_per_stratum is boolean or min_per_stratum is not number or min_per_stratum != (min_per_stratum | int) or min_per_stratum < 0 -%}
        {{ exceptions.raise_compiler_error(name ~ ": argument `min_per_stratum` must be a whole number >= 0, got " ~ (min_per_stratum | string) ~ ".") }}
    {%- endif -%}
    {%- if exact is not boolean -%}
        {{ exceptions.raise_compiler_error(name ~ ": argument `exact` must be true or false, got " ~ (exact | string) ~ ".") }}
    {%- endif -%}
    {%- if allocation is mapping -%}
        {%- if allocation | length == 0 -%}
            {{ exceptions.raise_compiler_error(name ~ ": argument `allocation` is an empty mapping; give {'<stratum>': rate, ...} or 'proportional' / 'equal'.") }}
        {%- endif -%}
        {%- for stratum_key, rate in allocation.items() -%}
            {%- do warehouse_ml._sampling_check_fraction(name, "allocation['" ~ stratum_key ~ "']", rate) -%}
        {%- endfor -%}
        {%- if sample_size is not none -%}
            {{ exceptions.raise_compiler_error(name ~ ": argument `sample_size` cannot be combined with an explicit `allocation` mapping (its values are rates); drop sample_size.") }}
        {%- endif -%}
    {%- else -%}
        {%- set allocation = warehouse_ml._sampling_check_choice(name, 'allocation', allocation, ['proportional', 'equal']) -%}
        {%- if (fraction is none) == (sample_size is none) -%}
            {{ exceptions.raise_compiler_error(name ~ ": with allocation='" ~ allocation ~ "' give exactly one of `fraction` (0, 1] or `sample_size` (rows in total), got fraction=" ~ (fraction | string) ~ ", sample_size=" ~ (sample_size | string) ~ ".") }}
        {%- endif -%}
    {%- endif -%}
    {{ return(adapter.dispatch('stratified_sample', 'warehouse_ml')(relation, strata, key_columns, seed, fraction, allocation, sample_size, min_per_stratum | int, exact, mode)) }}
{%- endmacro %}

{% macro default__stratified_sample(relation, strata, key_columns, seed, fraction, allocation, sample_size, min_per_stratum, exact, mode) -%}
    {%- set src_keys = [] -%}
    {%- for column in key_columns -%}{%- do src_keys.append('src.' ~ column) -%}{%- endfor -%}
    {%- set uniform = warehouse_ml.seeded_uniform(src_keys, seed, mode) -%}
    {%- set join_on -%}
        {%- for column in strata %}{{ ' and ' if not loop.first }}src.{{ column }} is not distinct from allocation.{{ column }}{% endfor -%}
    {%- endset -%}
    {%- set stratum_key -%}
        concat_ws('|'{% for column in strata %}, coalesce(cast({{ column }} as string), '<null>'){% endfor %})
    {%- endset -%}

    {%- if allocation == 'proportional' and fraction is not none and min_per_stratum == 0 and not exact -%}
    {#- Every stratum at the same rate: no counts needed, a single pass. -#}
    select
        src.*,
        cast({{ fraction }} as double) as inclusion_probability,
        cast(1 as double) / cast({{ fraction }} as double) as sample_weight
    from {{ relation }} as src
    where {{ uniform }} < {{ fraction }}
    {%- else %}
    with

    _ss_strata_counts as (
        select
            {{ strata | join(',\n            ') }},
            count(*) as population_count
        from {{ relation }}
        group by {{ strata | join(', ') }}
    ),

    _ss_strata_totals as (
        select
            *,
            sum(population_count) over () as total_count,
            count(*) over () as strata_count,
            {{ stratum_key }} as stratum_key
        from _ss_strata_counts
    ),

    {%- if allocation is mapping %}

    _ss_rates as (
        select * from (
            values
            {%- for stratum_value, rate in allocation.items() %}
                ({{ warehouse_ml._sampling_string_literal(stratum_value) }}, cast({{ rate }} as double)){{ ',' if not loop.last }}
            {%- endfor %}
        ) as rates (stratum_key, stratum_rate)
    ),
    {%- endif %}

    _ss_strata_targets as (
        select
            totals.*,
            {%- if allocation is mapping %}
            coalesce(rates.stratum_rate, cast({{ fraction if fraction is not none else 0 }} as double)) * totals.population_count as target_count
            {%- elif allocation == 'proportional' and fraction is not none %}
            cast({{ fraction }} as double) * totals.population_count as target_count
            {%- elif allocation == 'proportional' %}
            cast({{ sample_size }} as double) * totals.population_count / totals.total_count as target_count
            {%- elif fraction is not none %}
            cast({{ fraction }} as double) * totals.total_count / totals.strata_count as target_count
            {%- else %}
            cast({{ sample_size }} as double) / totals.strata_count as target_count
            {%- endif %}
        from _ss_strata_totals as totals
        {%- if allocation is mapping %}
        left join _ss_rates as rates
            on totals.stratum_key = rates.stratum_key
        {%- endif %}
    ),

    _ss_allocation as (
        select
            {{ strata | join(',\n            ') }},
            population_count,
            case
                when population_count < {{ min_per_stratum }}
                    then {{ warehouse_ml._sampling_raise_runtime_error(
                        "concat('stratified_sample: stratum ', stratum_key, ' has ', cast(population_count as string), ' rows, fewer than min_per_stratum=" ~ min_per_stratum ~ ". Lower min_per_stratum or merge the small strata.')") }}
                {%- if exact %}
                else cast(least(population_count, greatest({{ min_per_stratum }}, cast(round(target_count) as bigint))) as double) / population_count
                {%- else %}
                else least(cast(1 as double), greatest(target_count, cast({{ min_per_stratum }} as double)) / population_count)
                {%- endif %}
            end as inclusion_probability
        from _ss_strata_targets
        where target_count > 0
    ),

    {%- if exact %}

    _ss_exact_allocation as (
        select
            *,
            cast(round(inclusion_probability * population_count) as bigint) as sample_count,
            {#- Only rows below a generous threshold (target + 6 standard deviations + 10 rows) are ranked. -#}
            least(
                cast(1 as double),
                inclusion_probability
                + 6 * sqrt(inclusion_probability * (1 - inclusion_probability) / population_count)
                + 10.0 / population_count
            ) as candidate_rate
        from _ss_allocation
        where inclusion_probability > 0
    ),

    _ss_candidates as (
        select
            {%- for column in strata %}
            allocation.{{ column }},
            {%- endfor %}
            allocation.sample_count,
            {{ uniform }} as uniform_value
        from {{ relation }} as src
        inner join _ss_exact_allocation as allocation
            on {{ join_on }}
        where {{ uniform }} < allocation.candidate_rate
    ),

    _ss_ranked as (
        select
            *,
            row_number() over (partition by {{ strata | join(', ') }} order by uniform_value) as stratum_rank
        from _ss_candidates
    ),

    _ss_cutoffs as (
        select
            {{ strata | join(',\n            ') }},
            case
                when count(*) < max(sample_count)
                    then {{ warehouse_ml._sampling_raise_runtime_error(
                        "'stratified_sample: too few candidate rows for an exact sample; use another seed'") }}
                else max(uniform_value)
            end as cutoff_value
        from _ss_ranked
        where stratum_rank <= sample_count
        group by {{ strata | join(', ') }}
    ),

    _ss_final_allocation as (
        select
            allocation.*,
            cutoffs.cutoff_value
        from _ss_exact_allocation as allocation
        inner join _ss_cutoffs as cutoffs
            on {% for column in strata %}{{ ' and ' if not loop.first }}allocation.{{ column }} is not distinct from cutoffs.{{ column }}{% endfor %}
    ),
    {%- endif %}

    _ss_sampled as (
        select
            src.*,
            allocation.inclusion_probability,
            cast(1 as double) / allocation.inclusion_probability as sample_weight
        from {{ relation }} as src
        inner join {{ '_ss_final_allocation' if exact else '_ss_allocation' }} as allocation
            on {{ join_on }}
        where {{ uniform }} {{ '<= allocation.cutoff_value' if exact else '< allocation.inclusion_probability' }}
    )

    select * from _ss_sampled
    {%- endif %}
{%- endmacro %}
