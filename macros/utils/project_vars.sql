{#- The project's vars that reach SQL and the check of each, declared once (see _utils__macros.yml). -#}

{#- var_checks(): {var name: [kind, arguments of the kind's macro]}. -#}
{% macro var_checks() -%}
    {%- set fraction = {'lower': 0, 'upper': 1, 'lower_inclusive': false} -%}
    {%- set days = {'minimum': 1, 'unit': 'of days'} -%}
    {%- set value_list = {'allow_none': true, 'hint': 'null accepts any non-empty value; see docs/raw_data_contract.md.'} -%}
    {{ return({
        'raw_data_path': ['path', {}],
        'staging_segments': ['string_list', value_list],
        'staging_regions': ['string_list', value_list],
        'staging_acquisition_channels': ['string_list', value_list],
        'staging_placements': ['string_list', value_list],
        'staging_devices': ['string_list', value_list],
        'staging_late_arriving_days': ['whole_number', {'minimum': 0, 'unit': 'of days'}],
        'staging_min_event_at': ['date', {'allow_none': true}],
        'staging_max_amount': ['number', {'lower': 0, 'lower_inclusive': false, 'allow_none': true}],
        'staging_max_rejected_share_warn': ['number', {'lower': 0, 'upper': 1}],
        'staging_max_rejected_share': ['number', {'lower': 0, 'upper': 1}],
        'extra_customer_columns': ['extra_columns', {}],
        'extra_impression_columns': ['extra_columns', {}],
        'churn_observation_grain': ['choice', {'allowed': ['month', 'week']}],
        'churn_min_history_days': ['whole_number', {'minimum': 0, 'unit': 'of days'}],
        'churn_activity_lookback_days': ['whole_number', days],
        'churn_horizon_days': ['whole_number', days],
        'churn_feature_windows_days': ['windows', {}],
        'churn_trend_recent_days': ['whole_number', days],
        'churn_trend_prior_days': ['whole_number', days],
        'ctr_rolling_windows_days': ['windows', {}],
        'ctr_prior_min_impressions': ['whole_number', {'minimum': 0}],
        'ctr_viewer_prior_impressions': ['number', {'lower': 0, 'lower_inclusive': false}],
        'sampling_seed': ['whole_number', {'minimum': 0}],
        'churn_training_customer_fraction': ['number', fraction],
        'churn_training_holdout_fraction': ['number', {'lower': 0, 'upper': 1, 'upper_inclusive': false}],
        'churn_lesson_fraction': ['number', fraction],
        'ctr_training_window_days': ['whole_number', days],
        'ctr_training_end_date': ['date', {'allow_none': true, 'hint': "E.g. '2024-03-31'; null ends the window on the latest impression date."}],
        'ctr_training_sample_fraction': ['number', fraction],
        'ctr_training_negative_rate': ['number', fraction],
        'ctr_stratified_fraction': ['number', fraction],
        'ctr_stratified_min_per_stratum': ['whole_number', {'minimum': 0}],
        'sampling_alpha': ['number', {'lower': 0, 'lower_inclusive': false, 'upper': 1, 'upper_inclusive': false}],
        'ml_random_state': ['whole_number', {'minimum': 0}],
        'ctr_scoring_window_days': ['whole_number', days],
        'ml_rollback_models': ['model_names', {}],
        'ml_registry_restore_path': ['path', {'allow_none': true}],
        'semantic_time_spine_start_date': ['date', {}],
        'semantic_time_spine_end_date': ['date', {}],
        'spark_file_format': ['choice', {'default': 'parquet', 'allowed': [
            'parquet', 'delta', 'iceberg', 'hudi', 'orc', 'csv', 'json', 'text', 'hive', 'jdbc', 'libsvm']}],
    }) }}
{%- endmacro %}


{#- checked_var(name): the var `name` through the check var_checks() declares for it. -#}
{% macro checked_var(name) -%}
    {%- set checks = warehouse_ml.var_checks() -%}
    {%- if name not in checks -%}
        {{ exceptions.raise_compiler_error("checked_var: no check declared for var " ~ name ~ "; add it to var_checks() in macros/utils/project_vars.sql.") }}
    {%- endif -%}
    {%- set kind, arguments = checks[name] -%}
    {%- if kind == 'number' -%}
        {{ return(warehouse_ml.number_var(name, **arguments)) }}
    {%- elif kind == 'whole_number' -%}
        {{ return(warehouse_ml.whole_number_var(name, **arguments)) }}
    {%- elif kind == 'date' -%}
        {{ return(warehouse_ml.date_var(name, **arguments)) }}
    {%- elif kind == 'choice' -%}
        {{ return(warehouse_ml.choice_var(name, **arguments)) }}
    {%- elif kind == 'path' -%}
        {{ return(warehouse_ml.path_var(name, **arguments)) }}
    {%- elif kind == 'string_list' -%}
        {{ return(warehouse_ml.string_list_var(name, **arguments)) }}
    {%- elif kind == 'model_names' -%}
        {{ return(warehouse_ml.model_names_var(name)) }}
    {%- elif kind == 'windows' -%}
        {{ return(warehouse_ml.windows_days_var(name)) }}
    {%- elif kind == 'extra_columns' -%}
        {{ return(warehouse_ml.extra_columns(name)) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("checked_var: var " ~ name ~ " has the unknown check kind '" ~ kind ~ "'.") }}
{%- endmacro %}


{#- rejected_share_limits(): [warn, error] of the rejected_share test, each in [0, 1] and warn <= error. -#}
{% macro rejected_share_limits() -%}
    {%- set warn_share = warehouse_ml.checked_var('staging_max_rejected_share_warn') -%}
    {%- set error_share = warehouse_ml.checked_var('staging_max_rejected_share') -%}
    {%- if warn_share > error_share -%}
        {%- do warehouse_ml._var_error('staging_max_rejected_share_warn', '<= staging_max_rejected_share (' ~ error_share ~ ')',
            warn_share, 'E.g. 0.01 and 0.2: warn above 1% rejected rows, fail above 20%.') -%}
    {%- endif -%}
    {{ return([warn_share, error_share]) }}
{%- endmacro %}


{#- check_vars(): every var of var_checks() and every model's version pin checked; the first on-run-start hook. -#}
{% macro check_vars() -%}
    {%- for name in warehouse_ml.var_checks() -%}
        {%- do warehouse_ml.checked_var(name) -%}
    {%- endfor -%}
    {%- do warehouse_ml.rejected_share_limits() -%}
    {%- set models = var('ml_models', {}) -%}
    {%- for model_name in (models if models is mapping else {}) | sort -%}
        {%- do warehouse_ml.model_version_var(model_name ~ '_model_version') -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}
