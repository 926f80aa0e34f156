with

evaluation_rows as (
    select * from {{ ref('ml_model_evaluation_rows') }}
),

churn_scores as (
    select * from {{ ref('churn_scores') }}
),

ctr_impression_scores as (
    select * from {{ ref('ctr_impression_scores') }}
),

evaluation_bins as (
    select
        model_name,
        model_version,
        dataset,
        point as score_bin,
        max(case when measure = 'bin_lower' then value end) as bin_lower,
        max(case when measure = 'bin_upper' then value end) as bin_upper,
        max(case when measure = 'row_count' then value end) as row_count,
        max(case when measure = 'weight_share' then value end) as weight_share
    from evaluation_rows
    where section = 'score_distribution'
    group by model_name, model_version, dataset, point
),

-- Every evaluation set of a version shares its bins (warehouse_ml.evaluation.score_edges).
bin_edges as (
    select distinct
        model_name,
        model_version,
        score_bin,
        bin_lower,
        bin_upper
    from evaluation_bins
),

bin_ranges as (
    select
        model_name,
        model_version,
        min(bin_lower) as score_low,
        (max(bin_upper) - min(bin_lower)) / count(*) as bin_width,
        count(*) as bin_count
    from bin_edges
    group by model_name, model_version
),

population_scores as (
    select
        'churn' as model_name,
        model_version,
        churn_probability as score
    from churn_scores

    union all

    select
        'ctr' as model_name,
        model_version,
        click_probability as score
    from ctr_impression_scores
),

scored_versions as (
    select distinct
        model_name,
        model_version
    from population_scores
),

-- The formula of warehouse_ml.evaluation.score_bins: a score outside the edges counts in the end bin.
population_binned as (
    select
        population_scores.model_name,
        population_scores.model_version,
        cast(least(greatest(
            floor((population_scores.score - bin_ranges.score_low) / bin_ranges.bin_width) + 1, 1
        ), bin_ranges.bin_count) as bigint) as score_bin
    from population_scores
    inner join bin_ranges
        on
            population_scores.model_name = bin_ranges.model_name
            and population_scores.model_version = bin_ranges.model_version
),

population_counts as (
    select
        model_name,
        model_version,
        score_bin,
        count(*) as row_count
    from population_binned
    group by model_name, model_version, score_bin
),

population_bins as (
    select
        bin_edges.model_name,
        bin_edges.model_version,
        'scored_population' as dataset,
        bin_edges.score_bin,
        bin_edges.bin_lower,
        bin_edges.bin_upper,
        cast(coalesce(population_counts.row_count, 0) as double) as row_count,
        cast(coalesce(population_counts.row_count, 0) as double)
        / sum(coalesce(population_counts.row_count, 0)) over (
            partition by bin_edges.model_name, bin_edges.model_version
        ) as weight_share
    from bin_edges
    inner join scored_versions
        on
            bin_edges.model_name = scored_versions.model_name
            and bin_edges.model_version = scored_versions.model_version
    left join population_counts
        on
            bin_edges.model_name = population_counts.model_name
            and bin_edges.model_version = population_counts.model_version
            and bin_edges.score_bin = population_counts.score_bin
),

score_distribution as (
    select
        model_name,
        model_version,
        dataset,
        score_bin,
        bin_lower,
        bin_upper,
        cast(row_count as bigint) as row_count,
        weight_share
    from evaluation_bins

    union all

    select
        model_name,
        model_version,
        dataset,
        score_bin,
        bin_lower,
        bin_upper,
        cast(row_count as bigint) as row_count,
        weight_share
    from population_bins
)

select * from score_distribution
