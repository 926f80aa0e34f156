{#- cluster_sample keeps every row of the sampled customers and none of the others, with
    inclusion_probability = fraction and sample_weight = 1 / fraction. Expected customers computed
    outside the warehouse (portable mode: md5 of '7|<customer_id>'). -#}
with

source_rows as (
    select * from (
        values
        (1, 11, 10.0), (1, 12, 20.0), (2, 21, 5.0), (2, 22, 6.0), (3, 31, 7.0),
        (3, 32, 8.0), (4, 41, 9.0), (5, 51, 1.0), (5, 52, 2.0), (5, 53, 3.0),
        (6, 61, 4.0), (7, 71, 4.5), (7, 72, 5.5), (8, 81, 6.5), (9, 91, 7.5),
        (10, 101, 8.5), (11, 111, 9.5), (12, 121, 1.5), (12, 122, 2.5)
    ) as source_rows (customer_id, transaction_id, amount)  -- noqa: AL05
),

expected as (
    select
        source_rows.*,
        0.5 as inclusion_probability,
        2.0 as sample_weight
    from source_rows
    where source_rows.customer_id in (1, 2, 7, 8, 9, 10, 11, 12)
),

actual as (
    {{ cluster_sample('source_rows', 'customer_id', 0.5, 7, mode='portable') }}
),

mismatches as (
    {{ rows_symmetric_difference(
        'actual', 'expected',
        ['customer_id', 'transaction_id', 'amount', 'inclusion_probability', 'sample_weight'],
    ) }}
)

select * from mismatches
