{#- negative_downsample keeps every positive and the negatives whose seeded value (md5 of '11|<id>',
    computed outside the warehouse) is below the rate; weights are 1 for positives, 1 / rate for negatives.
    Case 'nested' (fraction 0.5): positives below 0.5 (id 3; 7, 12, 18 are above), negatives below
    0.5 * 0.3 = 0.15 (ids 5, 14; 19 at 0.155 is just above). -#}
with

source_rows as (
    select
        id,
        id in (3, 7, 12, 18) as is_clicked
    from (
        values
        (1), (2), (3), (4), (5), (6), (7), (8), (9), (10),
        (11), (12), (13), (14), (15), (16), (17), (18), (19), (20)
    ) as ids (id)  -- noqa: AL05
),

expected as (
    select * from (
        values
        (3, true, 1.0, 1.0), (5, false, 0.3, 3.333333333), (7, true, 1.0, 1.0),
        (12, true, 1.0, 1.0), (14, false, 0.3, 3.333333333), (18, true, 1.0, 1.0),
        (19, false, 0.3, 3.333333333)
    ) as expected (id, is_clicked, inclusion_probability, sample_weight)  -- noqa: AL05
),

expected_nested as (
    select * from (
        values (3, true, 0.5, 2.0), (5, false, 0.15, 6.666666667), (14, false, 0.15, 6.666666667)
    ) as expected_nested (id, is_clicked, inclusion_probability, sample_weight)  -- noqa: AL05
),

actual as (
    select
        'all positives' as case_name,
        id,
        is_clicked,
        round(inclusion_probability, 9) as inclusion_probability,
        round(sample_weight, 9) as sample_weight
    from (
        {{ negative_downsample('source_rows', 'is_clicked', 0.3, 'id', 11, mode='portable') }}
    ) as sampled

    union all

    select
        'nested' as case_name,
        id,
        is_clicked,
        round(inclusion_probability, 9) as inclusion_probability,
        round(sample_weight, 9) as sample_weight
    from (
        {{ negative_downsample('source_rows', 'is_clicked', 0.3, 'id', 11, mode='portable', fraction=0.5) }}
    ) as sampled
),

expected_rounded as (
    select
        'all positives' as case_name,
        id,
        is_clicked,
        round(cast(inclusion_probability as double), 9) as inclusion_probability,
        round(cast(sample_weight as double), 9) as sample_weight
    from expected

    union all

    select
        'nested' as case_name,
        id,
        is_clicked,
        round(cast(inclusion_probability as double), 9) as inclusion_probability,
        round(cast(sample_weight as double), 9) as sample_weight
    from expected_nested
),

mismatches as (
    {{ rows_symmetric_difference('actual', 'expected_rounded') }}
)

select * from mismatches
