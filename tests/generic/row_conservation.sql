{#- Row conservation: every raw row is accounted for exactly once, as a staged row, a rejected row or a
    duplicate delivery. Duplicates are counted from the raw table itself (non-null keys minus distinct
    keys), independently of staging, so the test fails when staging loses or invents rows. -#}
{% test row_conservation(model, key_column, staged_model, rejected_model) %}

with

raw_counts as (
    select
        count(*) as raw_rows,
        count({{ key_column }}) - count(distinct {{ key_column }}) as duplicate_rows
    from {{ model }}
),

staged_counts as (
    select count(*) as staged_rows
    from {{ staged_model }}
),

rejected_counts as (
    select count(*) as rejected_rows
    from {{ rejected_model }}
),

balance as (
    select
        raw_counts.raw_rows,
        staged_counts.staged_rows,
        rejected_counts.rejected_rows,
        raw_counts.duplicate_rows,
        raw_counts.raw_rows
        - staged_counts.staged_rows
        - rejected_counts.rejected_rows
        - raw_counts.duplicate_rows as unaccounted_rows
    from raw_counts
    cross join staged_counts
    cross join rejected_counts
)

select * from balance
where unaccounted_rows <> 0

{% endtest %}
