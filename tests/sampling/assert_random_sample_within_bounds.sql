{#- random_sample: a 100 percent sample returns every row exactly once; a seeded 50 percent Bernoulli
    sample of 1000 rows keeps only source rows, no row twice, and between 400 and 600 rows
    (expected 500, standard deviation 15.8: the bounds are more than 6 standard deviations wide). -#}
with

digits as (
    select * from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as digits (digit)  -- noqa: AL05
),

source_rows as (
    select hundreds.digit * 100 + tens.digit * 10 + ones.digit as id
    from digits as hundreds
    cross join digits as tens
    cross join digits as ones
),

full_sample as (
    {{ random_sample('source_rows', fraction=1, seed=42) }}
),

half_sample as (
    {{ random_sample('source_rows', percent=50, method='bernoulli', seed=42) }}
),

checks as (
    select
        'full sample differs from the source' as issue,
        count(*) as observed
    from (
        select id from full_sample
        except
        select id from source_rows
    ) as differences
    having count(*) > 0 or (select count(*) from full_sample) != 1000

    union all

    select
        'half sample size outside [400, 600] or rows repeated' as issue,
        count(*) as observed
    from half_sample
    having count(*) < 400 or count(*) > 600 or count(distinct id) != count(*)

    union all

    select
        'half sample has rows not in the source' as issue,
        count(*) as observed
    from half_sample
    where id not in (select id from source_rows)
    having count(*) > 0
)

select * from checks
