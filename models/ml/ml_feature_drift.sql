{#- Every model's features and score: scoring population vs training sample and previous date (_ml__models.yml). -#}
{#- The rows come from a table (ml_feature_drift_rows): Spark's analyser runs out of memory when the
    populations' CTEs are inlined into every step of distribution_drift. -#}
{#- Trend features (declared drift: 'trend') move with the calendar: reported, not monitored. -#}
{%- set trend = {} -%}
{%- for model_name in ['churn', 'ctr'] -%}
    {%- do trend.update({model_name: trend_features(ml_model_spec(model_name).feature_set)}) -%}
{%- endfor -%}
{%- set unmonitored = [] -%}
{%- for model_name, names in trend.items() if names -%}
    {%- set literals = [] -%}
    {%- for name in names -%}
        {%- do literals.append(sql_string_literal(name)) -%}
    {%- endfor -%}
    {%- do unmonitored.append("(drift.model_name = " ~ sql_string_literal(model_name) ~ " and drift.feature in ("
        ~ literals | join(', ') ~ "))") -%}
{%- endfor -%}
{%- set is_monitored = 'not (' ~ unmonitored | join(' or ') ~ ')' if unmonitored else 'true' -%}
{%- set partition_columns = [
    'model_name', 'comparison', 'stratum_column', 'stratum_value', 'feature', 'feature_kind',
] %}

with

feature_drift_rows as (
    select * from {{ ref('ml_feature_drift_rows') }}
),

churn_scores as (
    select * from {{ ref('churn_scores') }}
),

ctr_impression_scores as (
    select * from {{ ref('ctr_impression_scores') }}
),

numeric_rows as (
    select
        {{ partition_columns | join(', ') }},
        side,
        numeric_value as feature_value,
        row_weight,
        cluster_key
    from feature_drift_rows
    where feature_kind in ('numeric', 'score')
),

categorical_rows as (
    select
        {{ partition_columns | join(', ') }},
        side,
        categorical_value as feature_value,
        row_weight,
        cluster_key
    from feature_drift_rows
    where feature_kind = 'categorical'
),

model_versions as (
    select
        'churn' as model_name,
        max(model_version) as model_version
    from churn_scores

    union all

    select
        'ctr' as model_name,
        max(model_version) as model_version
    from ctr_impression_scores
),

numeric_drift as (
    {{ distribution_drift('numeric_rows', partition_columns, 'numeric', cluster_column='cluster_key') }}
),

categorical_drift as (
    {{ distribution_drift('categorical_rows', partition_columns, 'categorical', cluster_column='cluster_key') }}
),

feature_drift as (
    select
        drift.model_name,
        model_versions.model_version,
        drift.comparison,
        drift.stratum_column,
        drift.stratum_value,
        drift.feature,
        drift.feature_kind,
        drift.reference_rows,
        drift.current_rows,
        drift.psi,
        drift.psi_threshold,
        drift.js_divergence,
        drift.mean_difference,
        drift.ks_statistic,
        {{ is_monitored }} as is_monitored,
        drift.is_drifted and {{ is_monitored }} as is_drifted
    from (
        select * from numeric_drift
        union all
        select * from categorical_drift
    ) as drift
    inner join model_versions
        on drift.model_name = model_versions.model_name
)

select * from feature_drift
