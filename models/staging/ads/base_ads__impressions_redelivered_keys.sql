{#- The impression_ids delivered more than once (docs: _ads__models.yml). -#}
with

source as (
    select * from {{ source('ads', 'impressions') }}
),

redelivered_keys as (
    select cast(impression_id as bigint) as impression_id
    from source
    where impression_id is not null
    group by cast(impression_id as bigint)
    having count(*) > 1
)

select * from redelivered_keys
