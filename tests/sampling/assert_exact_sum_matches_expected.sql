{#- exact_sum and exact_mean add in decimals: 0.1 + 0.2 + 0.3 is 0.6 exactly (a DOUBLE sum gives
    0.6000000000000001 in one order and 0.6 in another), in every group and whatever the row order. -#}
with

source_rows as (
    select * from (
        values
        (1, cast(0.1 as double)),
        (1, cast(0.2 as double)),
        (1, cast(0.3 as double)),
        (2, cast(0.3 as double)),
        (2, cast(0.2 as double)),
        (2, cast(0.1 as double)),
        (2, cast(null as double))
    ) as source_rows (group_id, value)  -- noqa: AL05
),

actual as (
    select
        group_id,
        {{ exact_sum('value') }} as actual_sum,
        {{ exact_mean('value') }} as actual_mean
    from source_rows
    group by group_id
),

mismatches as (
    select *
    from actual
    where
        actual_sum != cast(0.6 as double)
        or actual_mean != cast(0.6 as double) / 3
)

select * from mismatches
