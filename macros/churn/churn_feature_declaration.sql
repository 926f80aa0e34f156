{#- churn_feature_declaration(): the one declaration of the churn feature columns (see _churn__macros.yml). -#}
{% macro churn_feature_declaration() -%}
    {%- set trend_recent = warehouse_ml.checked_var('churn_trend_recent_days') -%}
    {%- set trend_prior = warehouse_ml.checked_var('churn_trend_prior_days') -%}
    {%- set window_sums = 'customer_windows.window_{w}d_' -%}
    {%- set count_check = '{c} is not null and {c} >= 0' -%}
    {{ return({
        'windows': churn_feature_windows(),
        'extra_columns_var': 'extra_customer_columns',
        'extra_columns_relation': 'customers',
        'reserved_columns': ['customer_id', 'observation_date', 'is_label_complete', 'is_churned'],
        'groups': [
            {'per_window': false, 'columns': {
                'segment': {'role': 'categorical', 'expression': 'customers.segment'},
                'region': {'role': 'categorical', 'expression': 'customers.region'},
                'acquisition_channel': {'role': 'categorical', 'expression': 'customers.acquisition_channel'},
                'tenure_days': {'role': 'numeric', 'drift': 'trend', 'expression':
                    'cast(' ~ days_between('customers.signup_date', 'customer_windows.observation_date') ~ ' as bigint)'},
                'recency_days': {'role': 'numeric', 'expression':
                    'cast(' ~ days_between('customer_windows.last_transaction_date', 'customer_windows.observation_date') ~ ' as bigint)'},
            }},
            {'per_window': true, 'columns': {
                'transaction_count': {'role': 'numeric', 'check': count_check, 'expression': 'cast(' ~ window_sums ~ 'lines as bigint)'},
                'total_amount': {'role': 'numeric', 'check': count_check, 'expression': 'cast(' ~ window_sums ~ 'amount as double)'},
                'avg_basket_amount': {'role': 'numeric', 'check': '{c} is null or {c} > 0', 'expression':
                    safe_rate(window_sums ~ 'amount', window_sums ~ 'lines')},
                'total_quantity': {'role': 'numeric', 'check': count_check, 'expression': 'cast(' ~ window_sums ~ 'units as bigint)'},
                'distinct_products': {'role': 'numeric', 'check': count_check, 'expression': 'cast(' ~ window_sums ~ 'products as bigint)'},
                'new_category_spend_share': {'role': 'numeric', 'check': '{c} is null or ({c} >= 0 and {c} <= 1)', 'expression':
                    safe_rate(window_sums ~ 'new_category_amount', window_sums ~ 'amount')},
            }},
            {'per_window': false, 'columns': {
                'transaction_trend_ratio': {'role': 'numeric', 'expression': safe_rate(
                    'customer_windows.trend_recent_transaction_count * ' ~ trend_prior,
                    'customer_windows.trend_prior_transaction_count * ' ~ trend_recent)},
                'amount_trend_ratio': {'role': 'numeric', 'expression': safe_rate(
                    'customer_windows.trend_recent_amount * ' ~ trend_prior,
                    'customer_windows.trend_prior_amount * ' ~ trend_recent)},
            }},
        ],
    }) }}
{%- endmacro %}
