{#- sample_stratum_counts(sample, population, strata, population_where=none): population, sample and expected rows per stratum (see _sampling__macros.yml). -#}
{% macro sample_stratum_counts(sample, population, strata, population_where=none) -%}
    {%- set strata = warehouse_ml._sampling_check_columns('sample_stratum_counts', 'strata', strata, population) -%}
    {{ return(adapter.dispatch('sample_stratum_counts', 'warehouse_ml')(sample, population, strata, population_where)) }}
{%- endmacro %}

{% macro default__sample_stratum_counts(sample, population, strata, population_where) -%}
    {%- set stratum_key -%}
        concat_ws('|'{% for column in strata %}, coalesce(cast({{ column }} as string), '<null>'){% endfor %})
    {%- endset %}
    with

    _sc_population as (
        select
            {{ stratum_key }} as stratum_key,
            count(*) as population_rows
        from {{ population }}
        {%- if population_where %}
        where {{ population_where }}
        {%- endif %}
        group by {{ strata | join(', ') }}
    ),

    _sc_sample as (
        select
            {{ stratum_key }} as stratum_key,
            count(*) as sample_rows,
            {{ warehouse_ml.exact_mean('inclusion_probability') }} as mean_inclusion_probability
        from {{ sample }}
        group by {{ strata | join(', ') }}
    ),

    _sc_strata as (
        select
            coalesce(population_counts.stratum_key, sample_counts.stratum_key) as stratum_key,
            coalesce(population_counts.population_rows, 0) as population_rows,
            coalesce(sample_counts.sample_rows, 0) as sample_rows,
            population_counts.population_rows * sample_counts.mean_inclusion_probability as expected_sample_rows
        from _sc_population as population_counts
        full outer join _sc_sample as sample_counts
            on population_counts.stratum_key = sample_counts.stratum_key
    )

    select * from _sc_strata
{%- endmacro %}
