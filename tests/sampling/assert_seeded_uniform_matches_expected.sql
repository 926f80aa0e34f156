{#- seeded_uniform in portable mode equals md5-based values computed outside the warehouse (Python's
    hashlib: int(md5('<seed>|<key>').hexdigest()[:13], 16) / 2**52), so DuckDB and Spark agree. -#}
with

source_rows as (
    select * from (
        values
        (1, 'x', 0.650006695494),
        (2, 'x', 0.081215680839),
        (3, 'x', 0.632203299731)
    ) as source_rows (id, tag, expected_value)  -- noqa: AL05
),

actual as (
    select
        id,
        expected_value,
        {{ seeded_uniform(['id'], 42, mode='portable') }} as actual_value
    from source_rows

    union all

    -- two key columns: md5('5|7|x')
    select
        id,
        0.3899676908 as expected_value,
        {{ seeded_uniform(['id', 'tag'], 5, mode='portable') }} as actual_value
    from (
        select
            7 as id,
            'x' as tag
    ) as two_keys
),

mismatches as (
    select *
    from actual
    where abs(actual_value - expected_value) > 1e-9
)

select * from mismatches
