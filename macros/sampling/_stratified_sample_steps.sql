{#- Private steps of stratified_sample (docs in _sampling__macros.yml): one argument check and the CTEs it chains. -#}

{#- The allocation: a mapping of rates per stratum, or 'proportional' / 'equal' with exactly one of fraction, sample_size. -#}
{% macro _stratified_sample_check_allocation(allocation, fraction, sample_size) -%}
    {%- set name = 'stratified_sample' -%}
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
        {{ return(allocation) }}
    {%- endif -%}
    {%- set allocation = warehouse_ml._sampling_check_choice(name, 'allocation', allocation, ['proportional', 'equal']) -%}
    {%- if (fraction is none) == (sample_size is none) -%}
        {{ exceptions.raise_compiler_error(name ~ ": with allocation='" ~ allocation ~ "' give exactly one of `fraction` (0, 1] or `sample_size` (rows in total), got fraction=" ~ (fraction | string) ~ ", sample_size=" ~ (sample_size | string) ~ ".") }}
    {%- endif -%}
    {{ return(allocation) }}
{%- endmacro %}


{#- Every stratum at the same rate: no counts needed, a single pass. -#}
{% macro _stratified_sample_single_pass(relation, fraction, uniform) -%}
    select
        src.*,
        cast({{ fraction }} as double) as inclusion_probability,
        cast(1 as double) / cast({{ fraction }} as double) as sample_weight
    from {{ relation }} as src
    where {{ uniform }} < {{ fraction }}
{%- endmacro %}


{#- CTEs _ss_strata_counts, _ss_strata_totals, (_ss_rates,) _ss_strata_targets: each stratum's size and target count. -#}
{% macro _stratified_sample_target_ctes(relation, strata, fraction, allocation, sample_size) -%}
    {%- set stratum_key -%}
        concat_ws('|'{% for column in strata %}, coalesce(cast({{ column }} as string), '<null>'){% endfor %})
    {%- endset -%}
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
                ({{ warehouse_ml.sql_string_literal(stratum_value) }}, cast({{ rate }} as double)){{ ',' if not loop.last }}
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
{%- endmacro %}


{#- CTE _ss_allocation: each stratum's inclusion probability, raised to min_per_stratum (a smaller stratum is taken whole). -#}
{% macro _stratified_sample_allocation_cte(strata, min_per_stratum, exact) -%}
    _ss_allocation as (
        select
            {{ strata | join(',\n            ') }},
            population_count,
            {#- A stratum smaller than min_per_stratum is taken whole (inclusion probability 1). -#}
            {%- if exact %}
            cast(least(population_count, greatest({{ min_per_stratum }}, cast(round(target_count) as bigint))) as double) / population_count
            {%- else %}
            least(cast(1 as double), greatest(target_count, cast({{ min_per_stratum }} as double)) / population_count)
            {%- endif %} as inclusion_probability
        from _ss_strata_targets
        where target_count > 0
    ),
{%- endmacro %}


{#- CTEs _ss_exact_allocation .. _ss_final_allocation (exact=true): each stratum's cutoff, the n_h-th smallest seeded hash. -#}
{% macro _stratified_sample_exact_ctes(relation, strata, uniform, join_on) -%}
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
{%- endmacro %}


{#- CTE _ss_sampled: the rows whose seeded hash falls under their stratum's rate (or exact cutoff), with weights. -#}
{% macro _stratified_sample_sampled_cte(relation, uniform, join_on, exact) -%}
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
{%- endmacro %}
