{#- distribution_drift on hand-computed numbers (two bins, so df = 1; q(1) = 11.157 by Wilson-Hilferty at z = 3.090232).
    a, numeric: reference 1, 2, 3, 4 (edge 2: shares 0.5 / 0.5), current 3, 4, 5, 6 (shares 0 / 1):
       PSI = (1e-4 - 0.5) ln(1e-4 / 0.5) + 0.5 ln 2 = 4.604318, KS 0.5, mean difference 2 / sqrt(1.25) = 1.788854,
       threshold 11.157 x (1/4 + 1/4) = 5.578621 (not drifted); at z = 0, q(1) = (7/9)^3 and the threshold 0.235254 (drifted).
    b, categorical: reference x, x, y, null (0.5 / 0.25 / 0.25), current x, y, y, y (0.25 / 0.75 / 0):
       PSI 2.677822, JS (base 2) 0.25, df 2, threshold 7.066461.
    c, weighted reference 1 (weight 3), 2 (weight 1) against current 1, 2: shares 0.75 / 0.25 vs 0.5 / 0.5,
       PSI 0.274653, Kish rows 16 / 10, threshold 11.157 x (1/1.6 + 1/2) = 12.551898, weighted means 1.25 vs 1.5:
       mean difference 0.25 / sqrt((0.1875 + 0.25) / 2) = 0.534522. -#}
with

numeric_rows as (
    select * from (
        values
        ('a', 0, 1.0, 1.0), ('a', 0, 2.0, 1.0), ('a', 0, 3.0, 1.0), ('a', 0, 4.0, 1.0),
        ('a', 1, 3.0, 1.0), ('a', 1, 4.0, 1.0), ('a', 1, 5.0, 1.0), ('a', 1, 6.0, 1.0),
        ('c', 0, 1.0, 3.0), ('c', 0, 2.0, 1.0), ('c', 1, 1.0, 1.0), ('c', 1, 2.0, 1.0)
    ) as numeric_rows (feature, side, feature_value, row_weight)  -- noqa: AL05
),

categorical_rows as (
    select
        feature,
        side,
        cast(feature_value as string) as feature_value,
        row_weight
    from (
        values
        ('b', 0, 'x', 1.0), ('b', 0, 'x', 1.0), ('b', 0, 'y', 1.0), ('b', 0, null, 1.0),
        ('b', 1, 'x', 1.0), ('b', 1, 'y', 1.0), ('b', 1, 'y', 1.0), ('b', 1, 'y', 1.0)
    ) as categorical_values (feature, side, feature_value, row_weight)  -- noqa: AL05
),

expected as (
    select * from (
        values
        ('default', 'a', 4, 4, 4.604318, 5.578621, null, 1.788854, 0.5, false),
        ('default', 'b', 4, 4, 2.677822, 7.066461, 0.25, null, null, false),
        ('default', 'c', 2, 2, 0.274653, 12.551898, null, 0.534522, 0.25, false),
        ('z0', 'a', 4, 4, 4.604318, 0.235254, null, 1.788854, 0.5, true)
    ) as expected (  -- noqa: AL05
        case_name, feature, reference_rows, current_rows, psi, psi_threshold, js_divergence,
        mean_difference, ks_statistic, is_drifted
    )
),

numeric_drift as (
    {{ distribution_drift('numeric_rows', ['feature'], 'numeric', bins=2) }}
),

categorical_drift as (
    {{ distribution_drift('categorical_rows', ['feature'], 'categorical', bins=2) }}
),

numeric_drift_at_z0 as (
    {{ distribution_drift('numeric_rows', ['feature'], 'numeric', bins=2, confidence_z=0) }}
),

actual as (
    select 'default' as case_name, * from numeric_drift
    union all
    select 'default' as case_name, * from categorical_drift
    union all
    select 'z0' as case_name, * from numeric_drift_at_z0 where feature = 'a'
),

{#- Null-safe comparisons within 1e-6: a figure that should be null must be null. -#}
mismatches as (
    select
        actual.*,
        expected.psi as expected_psi
    from actual
    full outer join expected
        on actual.case_name = expected.case_name and actual.feature = expected.feature
    where
        actual.feature is null
        or expected.feature is null
        or actual.reference_rows != expected.reference_rows
        or actual.current_rows != expected.current_rows
        or actual.is_drifted != expected.is_drifted
        {%- for column in ['psi', 'psi_threshold', 'js_divergence', 'mean_difference', 'ks_statistic'] %}
        or (actual.{{ column }} is null) != (expected.{{ column }} is null)
        or abs(actual.{{ column }} - expected.{{ column }}) > 1e-6
        {%- endfor %}
)

select * from mismatches
