{#- Parity: the SQL-compiled CTR scores (ctr_impression_scores) equal the scikit-learn scores streamed
    in Python (ctr_predictions) within 1e-6 per impression, summed per ad x placement x day. -#}

with

impression_scores as (
    select * from {{ ref('ctr_impression_scores') }}
),

impression_features as (
    select * from {{ ref('fct_impression_features') }}
),

ctr_predictions as (
    select * from {{ ref('ctr_predictions') }}
),

sql_totals as (
    select
        impression_features.ad_id,
        impression_features.placement,
        impression_features.impression_date,
        impression_scores.model_version,
        count(*) as impressions,
        sum(impression_scores.click_probability) as predicted_clicks
    from impression_scores
    inner join impression_features
        on impression_scores.impression_id = impression_features.impression_id
    group by
        impression_features.ad_id,
        impression_features.placement,
        impression_features.impression_date,
        impression_scores.model_version
),

compared as (
    select
        ctr_predictions.ad_id,
        ctr_predictions.placement,
        ctr_predictions.impression_date,
        ctr_predictions.model_version as python_model_version,
        sql_totals.model_version as sql_model_version,
        ctr_predictions.impressions as python_impressions,
        sql_totals.impressions as sql_impressions,
        ctr_predictions.predicted_click_through_rate * ctr_predictions.impressions
            as python_predicted_clicks,
        sql_totals.predicted_clicks as sql_predicted_clicks
    from ctr_predictions
    full outer join sql_totals
        on
            ctr_predictions.ad_id = sql_totals.ad_id
            and ctr_predictions.placement = sql_totals.placement
            and ctr_predictions.impression_date = sql_totals.impression_date
)

select *
from compared
where
    python_model_version is null
    or sql_model_version is null
    or python_model_version != sql_model_version
    or python_impressions != sql_impressions
    or abs(python_predicted_clicks - sql_predicted_clicks) > 1e-6 * python_impressions
