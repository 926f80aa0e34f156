{#- The long input of ml_feature_drift: one row per compared value (see _ml__models.yml). -#}
{%- set churn = ml_model_spec('churn') -%}
{%- set ctr = ml_model_spec('ctr') -%}
{%- set strata = {'churn': ['segment'], 'ctr': ['placement']} -%}
{#- Per model and comparison: reference and current CTEs (below), their features, the reference's weight and
    the clusters of correlated rows (macro distribution_drift counts clusters, not rows): churn's training
    sample holds a customer at many observation dates; a CTR ad's impressions of one day share its ad_* values
    (and so much of their score), and across the scoring window's few days its trailing-window values barely
    move (a 28-day window shifts by a day), so there an ad counts once. -#}
{%- set ctr_ad_day = "cast(ad_id as string) || '|' || cast(impression_date as string)" -%}
{%- set ctr_ad = "cast(ad_id as string)" -%}
{%- set clusters = {
    'churn': {'training_sample': ['customer_id', none], 'previous_scoring_date': [none, none]},
    'ctr': {'training_sample': [ctr_ad_day, ctr_ad], 'previous_scoring_date': [ctr_ad, ctr_ad]},
} -%}
{%- set comparisons = [] -%}
{%- for model_name, spec in [('churn', churn), ('ctr', ctr)] -%}
    {%- do comparisons.append({'model_name': model_name, 'comparison': 'training_sample',
        'reference': model_name ~ '_training_rows', 'current': model_name ~ '_scoring_rows',
        'numeric': spec.numeric_features, 'categorical': spec.categorical_features, 'score': none,
        'weight_column': 'sample_weight'}) -%}
    {%- do comparisons.append({'model_name': model_name, 'comparison': 'previous_scoring_date',
        'reference': model_name ~ '_previous_rows', 'current': model_name ~ '_latest_rows',
        'numeric': spec.numeric_features, 'categorical': spec.categorical_features, 'score': none,
        'weight_column': none}) -%}
    {%- do comparisons.append({'model_name': model_name, 'comparison': 'previous_scoring_date',
        'reference': model_name ~ '_previous_scores', 'current': model_name ~ '_latest_scores',
        'numeric': [], 'categorical': [], 'score': 'score', 'weight_column': none}) -%}
{%- endfor -%}
{%- set train_rows = {} -%}
{%- for model_name, spec in [('churn', churn), ('ctr', ctr)] -%}
    {%- do train_rows.update({model_name: "split = 'train'" if spec.sampling_spec.get('split') else 'true'}) -%}
{%- endfor -%}
{#- The long rows of each kind (macro drift_rows): every comparison's reference and current, unioned. -#}
{%- set long_rows = {} -%}
{%- for kind, value_type in [('numeric', 'double'), ('categorical', 'string')] -%}
    {%- set parts = [] -%}
    {%- for entry in comparisons -%}
        {%- set names = entry.numeric if kind == 'numeric' else entry.categorical -%}
        {%- set feature_kind = kind -%}
        {%- if kind == 'numeric' and entry.score -%}
            {%- set names = [entry.score] -%}
            {%- set feature_kind = 'score' -%}
        {%- endif -%}
        {%- set cluster = clusters[entry.model_name][entry.comparison] -%}
        {%- set sides = [
            ('reference', entry.reference, entry.weight_column, cluster[0]),
            ('current', entry.current, none, cluster[1]),
        ] -%}
        {%- for side, relation, weight, cluster_column in sides if names -%}
            {%- do parts.append(drift_rows(relation, side, names, value_type, strata=strata[entry.model_name],
                weight_column=weight, labels={'model_name': entry.model_name, 'comparison': entry.comparison,
                'feature_kind': feature_kind}, cluster_column=cluster_column)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do long_rows.update({kind: parts | join('\n    union all\n')}) -%}
{%- endfor -%}

-- sqlfluff:max_parse_nodes:400000
with

churn_training_set as (
    select * from {{ ref(churn.training_set) }}
),

churn_scoring_population as (
    select * from {{ ref(churn.scoring_population) }}
),

churn_features as (
    select * from {{ ref('fct_customer_churn_features') }}
),

churn_scores as (
    select * from {{ ref('churn_scores') }}
),

churn_score_history as (
    select * from {{ ref('churn_score_history') }}
),

ctr_training_set as (
    select * from {{ ref(ctr.training_set) }}
),

ctr_scoring_population as (
    select * from {{ ref(ctr.scoring_population) }}
),

ctr_impression_scores as (
    select * from {{ ref('ctr_impression_scores') }}
),

{# Training sample: the rows the model was fitted on (split = 'train' when the training set has a split). #}
churn_training_rows as (
    select * from churn_training_set
    where {{ train_rows.churn }}
),

churn_scoring_rows as (
    select * from churn_scoring_population
),

churn_latest_date as (
    select max(observation_date) as observation_date from churn_scoring_population
),

churn_previous_date as (
    select max(churn_features.observation_date) as observation_date
    from churn_features
    inner join churn_latest_date
        on churn_features.observation_date < churn_latest_date.observation_date
),

churn_latest_rows as (
    select * from churn_scoring_population
),

churn_previous_rows as (
    select churn_features.*
    from churn_features
    inner join churn_previous_date
        on churn_features.observation_date = churn_previous_date.observation_date
),

churn_latest_scores as (
    select
        churn_scoring_population.segment,
        churn_scores.churn_probability as score
    from churn_scores
    inner join churn_scoring_population
        on
            churn_scores.customer_id = churn_scoring_population.customer_id
            and churn_scores.observation_date = churn_scoring_population.observation_date
),

churn_last_scoring as (
    select
        observation_date,
        max(scored_at) as scored_at
    from churn_score_history
    group by observation_date
),

{# The previous date's scores as first written by the version that scored that date last. #}
churn_previous_version as (
    select max(churn_score_history.model_version) as model_version
    from churn_score_history
    inner join churn_previous_date
        on churn_score_history.observation_date = churn_previous_date.observation_date
    inner join churn_last_scoring
        on
            churn_score_history.observation_date = churn_last_scoring.observation_date
            and churn_score_history.scored_at = churn_last_scoring.scored_at
),

churn_previous_scores as (
    select
        churn_previous_rows.segment,
        churn_score_history.churn_probability as score
    from churn_score_history
    inner join churn_previous_version
        on churn_score_history.model_version = churn_previous_version.model_version
    inner join churn_previous_rows
        on
            churn_score_history.customer_id = churn_previous_rows.customer_id
            and churn_score_history.observation_date = churn_previous_rows.observation_date
),

ctr_training_rows as (
    select * from ctr_training_set
    where {{ train_rows.ctr }}
),

ctr_scoring_rows as (
    select * from ctr_scoring_population
),

{# CTR scores a window of days: its last day against the day before it. #}
ctr_latest_date as (
    select max(impression_date) as impression_date from ctr_scoring_population
),

ctr_previous_date as (
    select max(ctr_scoring_population.impression_date) as impression_date
    from ctr_scoring_population
    inner join ctr_latest_date
        on ctr_scoring_population.impression_date < ctr_latest_date.impression_date
),

ctr_latest_rows as (
    select ctr_scoring_population.*
    from ctr_scoring_population
    inner join ctr_latest_date
        on ctr_scoring_population.impression_date = ctr_latest_date.impression_date
),

ctr_previous_rows as (
    select ctr_scoring_population.*
    from ctr_scoring_population
    inner join ctr_previous_date
        on ctr_scoring_population.impression_date = ctr_previous_date.impression_date
),

ctr_latest_scores as (
    select
        ctr_latest_rows.placement,
        ctr_latest_rows.ad_id,
        ctr_latest_rows.impression_date,
        ctr_impression_scores.click_probability as score
    from ctr_impression_scores
    inner join ctr_latest_rows
        on ctr_impression_scores.impression_id = ctr_latest_rows.impression_id
),

ctr_previous_scores as (
    select
        ctr_previous_rows.placement,
        ctr_previous_rows.ad_id,
        ctr_previous_rows.impression_date,
        ctr_impression_scores.click_probability as score
    from ctr_impression_scores
    inner join ctr_previous_rows
        on ctr_impression_scores.impression_id = ctr_previous_rows.impression_id
),

numeric_rows as (
    {{ long_rows.numeric }}
),

categorical_rows as (
    {{ long_rows.categorical }}
),

drift_rows as (
    select
        model_name,
        comparison,
        feature_kind,
        stratum_column,
        stratum_value,
        feature,
        side,
        feature_value as numeric_value,
        cast(null as string) as categorical_value,
        row_weight,
        cluster_key
    from numeric_rows

    union all

    select
        model_name,
        comparison,
        feature_kind,
        stratum_column,
        stratum_value,
        feature,
        side,
        cast(null as double) as numeric_value,
        feature_value as categorical_value,
        row_weight,
        cluster_key
    from categorical_rows
)

select * from drift_rows
