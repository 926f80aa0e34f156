{#- sample_representativeness on hand-computed numbers. Population x = 1..10, two bins split at the
    median 5. Sample x = 1, 2, 3, 10: bin shares 0.75 / 0.25 against 0.5 / 0.5, so
    PSI = 0.25 * ln(1.5) + 0.25 * ln(2) = 0.274653, KS = 0.25, mean 4 (population 5.5).
    With weights 1, 1, 1, 3 the shares are 0.5 / 0.5: PSI 0, KS 0, weighted mean 36 / 6 = 6.
    Several features in one call (one query in long form, partitioned by feature) keep their own
    edges and figures: y = 10 x has x's shares (mean 55, sample 40); z = 11 - x reverses them
    (sample 1, 2, 3, 10 -> 10, 9, 8, 1: shares 0.25 / 0.75, the same PSI and KS, mean 5.5 against
    sample 7); w is null in every row (no edges, one null bin on both sides: PSI 0, KS 0, no mean). -#}
with

population_rows as (
    select
        x,
        10 * x as y,
        11 - x as z,
        cast(null as double) as w
    from (
        values (1), (2), (3), (4), (5), (6), (7), (8), (9), (10)
    ) as population_values (x)  -- noqa: AL05
),

sample_rows as (
    select
        x,
        10 * x as y,
        11 - x as z,
        cast(null as double) as w,
        sample_weight
    from (
        values (1, 1.0), (2, 1.0), (3, 1.0), (10, 3.0)
    ) as sample_values (x, sample_weight)  -- noqa: AL05
),

expected as (
    select * from (
        values
        ('unweighted', 'x', 10, 4, 5.5, 4.0, 0.274653, 0.25),
        ('weighted', 'x', 10, 4, 5.5, 6.0, 0.0, 0.0),
        ('features', 'x', 10, 4, 5.5, 4.0, 0.274653, 0.25),
        ('features', 'y', 10, 4, 55.0, 40.0, 0.274653, 0.25),
        ('features', 'z', 10, 4, 5.5, 7.0, 0.274653, 0.25),
        ('features', 'w', 10, 4, null, null, 0.0, 0.0)
    ) as expected (  -- noqa: AL05
        case_name, feature_name, population_rows, sample_rows, population_mean, sample_mean, psi, ks_statistic
    )
),

unweighted as (
    {{ sample_representativeness('sample_rows', 'population_rows', ['x'], bins=2) }}
),

weighted as (
    {{ sample_representativeness(
        'sample_rows', 'population_rows', 'x', weight_column='sample_weight', bins=2
    ) }}
),

features as (
    {{ sample_representativeness('sample_rows', 'population_rows', ['x', 'y', 'z', 'w'], bins=2) }}
),

actual as (
    select
        'unweighted' as case_name,
        *
    from unweighted
    union all
    select
        'weighted' as case_name,
        *
    from weighted
    union all
    select
        'features' as case_name,
        *
    from features
),

mismatches as (
    select
        actual.*,
        expected.psi as expected_psi
    from actual
    full outer join expected
        on
            actual.case_name = expected.case_name
            and actual.feature_name = expected.feature_name
    where
        expected.case_name is null
        or actual.case_name is null
        or actual.population_rows != expected.population_rows
        or actual.sample_rows != expected.sample_rows
        or (actual.population_mean is null) != (expected.population_mean is null)
        or (actual.sample_mean is null) != (expected.sample_mean is null)
        or abs(actual.population_mean - expected.population_mean) > 1e-9
        or abs(actual.sample_mean - expected.sample_mean) > 1e-9
        or abs(actual.psi - expected.psi) > 1e-6
        or abs(actual.ks_statistic - expected.ks_statistic) > 1e-9
)

select * from mismatches
