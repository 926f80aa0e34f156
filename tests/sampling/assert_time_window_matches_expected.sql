{#- time_window keeps the last `days` days up to and including end_date, by calendar date of the timestamp.
    Case 'fixed': days 3 up to 2025-06-10 -> 06-08 00:00 .. 06-10 23:59. Case 'latest': end_date none ->
    the latest date in the data (06-12), so 06-10 .. 06-12. -#}
with

source_rows as (
    select
        id,
        cast(event_at as timestamp) as event_at
    from (
        values
        (1, '2025-06-07 23:59:59'),
        (2, '2025-06-08 00:00:00'),
        (3, '2025-06-09 12:00:00'),
        (4, '2025-06-10 23:59:59'),
        (5, '2025-06-11 00:00:00'),
        (6, '2025-06-12 08:30:00')
    ) as source_rows (id, event_at)  -- noqa: AL05
),

expected as (
    select * from (
        values ('fixed', 2), ('fixed', 3), ('fixed', 4), ('latest', 4), ('latest', 5), ('latest', 6)
    ) as expected (case_name, id)  -- noqa: AL05
),

actual as (
    select
        'fixed' as case_name,
        id
    from ({{ time_window('source_rows', 'event_at', 3, end_date='2025-06-10') }}) as fixed_window

    union all

    select
        'latest' as case_name,
        id
    from ({{ time_window('source_rows', 'event_at', 3) }}) as latest_window
),

mismatches as (
    {{ rows_symmetric_difference('actual', 'expected', ['case_name', 'id']) }}
)

select * from mismatches
