{#- sample_representativeness on hand-computed numbers. Population x = 1..10, two bins split at the
    median 5. Sample x = 1, 2, 3, 10: bin shares 0.75 / 0.25 against 0.5 / 0.5, so
    PSI = 0.25 * ln(1.5) + 0.25 * ln(2) = 0.274653, KS = 0.25, mean 4 (population 5.5).
    With weights 1, 1, 1, 3 the shares are 0.5 / 0.5: PSI 0, KS 0, weighted mean 36 / 6 = 6. -#}
with

population_rows as (
    select * from (
        values (1), (2), (3), (4), (5), (6), (7), (8), (9), (10)
    ) as population_rows (x)  -- noqa: AL05
),

sample_rows as (
    select * from (
        values (1, 1.0), (2, 1.0), (3, 1.0), (10, 3.0)
    ) as sample_rows (x, sample_weight)  -- noqa: AL05
),

expected as (
    select * from (
        values
        ('unweighted', 10, 4, 5.5, 4.0, 0.274653, 0.25),
        ('weighted', 10, 4, 5.5, 6.0, 0.0, 0.0)
    ) as expected (  -- noqa: AL05
        case_name, population_rows, sample_rows, population_mean, sample_mean, psi, ks_statistic
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
),

mismatches as (
    select
        actual.*,
        expected.psi as expected_psi
    from actual
    left join expected
        on actual.case_name = expected.case_name
    where
        expected.case_name is null
        or actual.population_rows != expected.population_rows
        or actual.sample_rows != expected.sample_rows
        or abs(actual.population_mean - expected.population_mean) > 1e-9
        or abs(actual.sample_mean - expected.sample_mean) > 1e-9
        or abs(actual.psi - expected.psi) > 1e-6
        or abs(actual.ks_statistic - expected.ks_statistic) > 1e-9
)

select * from mismatches
