{#- Every impression of the CTR scoring population scored in SQL by the compiled current CTR model. -#}
{%- set scoring = ml_scoring_query(
    ref('ml_ctr_model'), 'ctr', 'scoring_population', ref('ml_model_aliases')
) -%}

with

scoring_population as (
    select * from {{ ref('ml_ctr_scoring_population') }}
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
