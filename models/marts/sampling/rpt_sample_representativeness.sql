{#- Evidence that every training set represents what it was drawn from (see _sampling__models.yml). -#}
{%- set churn_features = feature_columns('churn').numeric + ['is_churned'] -%}
{%- set ctr_features = feature_columns('ctr').numeric + ['impression_hour', 'is_clicked'] -%}
{#- The populations are rebuilt from the training models' own sampling specs (read from the graph at execute time). -#}
{%- set ctr_recent_sampling = training_sampling_spec('trn_ctr__recent_sample') -%}
{#- Samples and populations are passed to the macros as relations, not CTEs over them: the macros read
    them more than once (the design's sizes, then every feature's values in one pass), and DuckDB
    materialises a CTE that is read more than once. -#}
{%- set training_sets = [
    {'name': 'trn_churn__cluster_sample', 'population': ref('fct_customer_churn_features'),
     'population_where': 'is_label_complete and observation_date < '
        ~ churn_out_of_time_date(ref('fct_customer_churn_features')),
     'features': churn_features, 'strata': ['segment'], 'cluster_column': 'customer_id'},
    {'name': 'trn_ctr__recent_sample', 'population': 'ctr_recent_population',
     'population_where': none, 'features': ctr_features, 'strata': ['is_clicked'], 'cluster_column': none},
    {'name': 'trn_ctr__stratified_sample', 'population': ref('fct_impression_features'),
     'population_where': none, 'features': ctr_features, 'strata': ['product_category', 'placement'], 'cluster_column': none},
] -%}

with

ctr_recent_population as (
    {{ ctr_training_window(ref('fct_impression_features'), ctr_recent_sampling) }}
),
{% for training_set in training_sets %}
    {{ training_set.name }}_features as (
        {{ sample_representativeness(
            ref(training_set.name), training_set.population, training_set.features, weight_column='sample_weight',
            population_where=training_set.population_where, cluster_column=training_set.cluster_column,
            alpha=checked_var('sampling_alpha'),
        ) }}
    ),

    {{ training_set.name }}_strata as (
        {{ sample_stratum_counts(
            ref(training_set.name), training_set.population, training_set.strata,
            population_where=training_set.population_where,
        ) }}
    ),
{% endfor %}
checks as (
    {%- for training_set in training_sets %}
        select
            '{{ training_set.name }}' as training_set,
            'feature' as check_type,
            feature_name as check_subject,
            population_rows,
            sample_rows,
            cast(null as double) as expected_sample_rows,
            population_mean,
            sample_mean,
            psi,
            ks_statistic,
            is_binary,
            mean_standard_error,
            rate_interval_lower,
            rate_interval_upper,
            effective_sample_rows,
            psi_threshold,
            ks_threshold
        from {{ training_set.name }}_features

        union all

        select
            '{{ training_set.name }}' as training_set,
            'stratum' as check_type,
            stratum_key as check_subject,
            cast(population_rows as bigint) as population_rows,
            cast(sample_rows as bigint) as sample_rows,
            expected_sample_rows,
            cast(null as double) as population_mean,
            cast(null as double) as sample_mean,
            cast(null as double) as psi,
            cast(null as double) as ks_statistic,
            cast(null as boolean) as is_binary,
            cast(null as double) as mean_standard_error,
            cast(null as double) as rate_interval_lower,
            cast(null as double) as rate_interval_upper,
            cast(null as double) as effective_sample_rows,
            cast(null as double) as psi_threshold,
            cast(null as double) as ks_threshold
        from {{ training_set.name }}_strata
        {%- if not loop.last %}

            union all
        {% endif %}
    {%- endfor %}
)

select * from checks
