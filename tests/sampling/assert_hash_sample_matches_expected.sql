{#- hash_sample (portable mode) keeps exactly the ids whose md5-based value is below the fraction,
    computed outside the warehouse (Python hashlib), so the expectation holds on DuckDB and Spark alike. -#}
with

source_rows as (
    select * from (
        values
        (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e'), (6, 'f'),
        (7, 'g'), (8, 'h'), (9, 'i'), (10, 'j'), (11, 'k'), (12, 'l'),
        (13, 'm'), (14, 'n'), (15, 'o'), (16, 'p'), (17, 'q'), (18, 'r'),
        (19, 's'), (20, 't'), (21, 'u'), (22, 'v'), (23, 'w'), (24, 'x')
    ) as source_rows (id, label)  -- noqa: AL05
),

expected as (
    select * from (
        values (2), (4), (5), (6), (7), (11), (14), (17), (20), (21), (23), (24)
    ) as expected (id)  -- noqa: AL05
),

actual as (
    select id from (
        {{ hash_sample('source_rows', ['id'], 0.5, 42, mode='portable') }}
    ) as sampled
),

mismatches as (
    {{ rows_symmetric_difference('actual', 'expected', ['id']) }}
),

row_count_check as (
    select
        'row count differs' as issue,
        count(*) as id
    from actual
    having count(*) != 12
)

select * from mismatches
union all
select * from row_count_check
