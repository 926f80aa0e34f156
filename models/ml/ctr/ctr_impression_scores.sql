{#- Every impression of the scoring window scored in SQL: the CTR model compiled at training time
    (ml_ctr_model.scoring_sql_*), no Python at scoring time. -#}
{%- set scoring = ml_scoring_query(ref('ml_ctr_model'), 'ctr', 'scoring_window', var('ctr_model_version')) -%}

with

impression_features as (
    select * from {{ ref('fct_impression_features') }}
),

window_end as (
    select max(impression_date) as last_impression_date
    from impression_features
),

scoring_window as (
    select impression_features.*
    from impression_features
    cross join window_end
    where
        impression_features.impression_date
        > {{ add_days('window_end.last_impression_date', -var('ctr_scoring_window_days')) }}
),

compiled_scores as (
    {{ scoring.sql }}
),

impression_scores as (
    select
        impression_id,
        probability as click_probability,
        '{{ scoring.model_version }}' as model_version
    from compiled_scores
)

select * from impression_scores
