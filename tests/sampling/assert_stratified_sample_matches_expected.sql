{#- stratified_sample in exact mode keeps, in every stratum, the n_h rows with the smallest seeded value
    (computed outside the warehouse: md5 of '42|<id>'), with inclusion_probability n_h / N_h.
    Case 1: equal allocation, sample_size 6 over strata of 10, 4 and 2 rows -> 2 each.
    Case 2: explicit rates {a: 0.3, b: 0.25}, min_per_stratum 2 -> a: 3 of 10, b: 2 of 4 (raised
    from 1 to the minimum), c not in the mapping and no default fraction -> dropped. -#}
with

source_rows as (
    select * from (
        values
        (1, 'a'), (2, 'a'), (3, 'a'), (4, 'a'), (5, 'a'), (6, 'a'), (7, 'a'), (8, 'a'),
        (9, 'a'), (10, 'a'), (11, 'b'), (12, 'b'), (13, 'b'), (14, 'b'), (15, 'c'), (16, 'c')
    ) as source_rows (id, stratum)  -- noqa: AL05
),

expected as (
    select * from (
        values
        ('equal', 2, 'a', 0.2), ('equal', 4, 'a', 0.2),
        ('equal', 11, 'b', 0.5), ('equal', 14, 'b', 0.5),
        ('equal', 15, 'c', 1.0), ('equal', 16, 'c', 1.0),
        ('explicit', 2, 'a', 0.3), ('explicit', 4, 'a', 0.3), ('explicit', 5, 'a', 0.3),
        ('explicit', 11, 'b', 0.5), ('explicit', 14, 'b', 0.5)
    ) as expected (case_name, id, stratum, inclusion_probability)  -- noqa: AL05
),

equal_allocation as (
    {{ stratified_sample(
        'source_rows', 'stratum', 'id', 42,
        allocation='equal', sample_size=6, exact=true, mode='portable',
    ) }}
),

explicit_allocation as (
    {{ stratified_sample(
        'source_rows', ['stratum'], ['id'], 42,
        allocation={'a': 0.3, 'b': 0.25}, min_per_stratum=2, exact=true, mode='portable',
    ) }}
),

actual as (
    select
        'equal' as case_name,
        id,
        stratum,
        round(inclusion_probability, 9) as inclusion_probability,
        round(sample_weight * inclusion_probability, 9) as weight_times_probability
    from equal_allocation

    union all

    select
        'explicit' as case_name,
        id,
        stratum,
        round(inclusion_probability, 9) as inclusion_probability,
        round(sample_weight * inclusion_probability, 9) as weight_times_probability
    from explicit_allocation
),

expected_rounded as (
    select
        case_name,
        id,
        stratum,
        round(cast(inclusion_probability as double), 9) as inclusion_probability
    from expected
),

mismatches as (
    {{ rows_symmetric_difference(
        'actual', 'expected_rounded', ['case_name', 'id', 'stratum', 'inclusion_probability'],
    ) }}
),

bad_weights as (
    select
        'sample_weight is not 1 / inclusion_probability' as issue,
        case_name,
        id,
        stratum,
        inclusion_probability
    from actual
    where weight_times_probability != 1
)

select * from mismatches
union all
select * from bad_weights
