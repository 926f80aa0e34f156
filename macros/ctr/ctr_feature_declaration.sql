{#- ctr_feature_declaration(): the one declaration of the fct_impression_features columns (see _ctr__macros.yml). -#}
{% macro ctr_feature_declaration() -%}
    {%- set ad_window = 'ad_ctr_windows.window_{w}d_' -%}
    {%- set rate_check = '{c} is null or ({c} >= 0 and {c} <= 1)' -%}
    {%- set viewer_category = 'viewer_category_histories.' -%}
    {{ return({
        'windows': ctr_rolling_windows(),
        'extra_columns_var': 'extra_impression_columns',
        'extra_columns_relation': 'impressions',
        'reserved_columns': ['impression_id', 'impressed_at', 'impression_date', 'user_id', 'product_category', 'is_clicked'],
        'groups': [
            {'per_window': false, 'columns': {
                'ad_id': {'role': 'categorical', 'expression': 'impressions.ad_id'},
                'placement': {'role': 'categorical', 'expression': 'impressions.placement'},
                'device': {'role': 'categorical', 'expression': 'impressions.device'},
                'impression_hour': {'role': 'categorical', 'expression': 'impressions.impression_hour'},
            }},
            {'per_window': true, 'columns': {
                'ad_previous_impressions': {'role': 'numeric', 'check': '{c} is not null and {c} >= 0', 'expression':
                    'coalesce(' ~ ad_window ~ 'impressions, 0)'},
                'ad_previous_clicks': {'role': none, 'check': '{c} is not null and {c} >= 0', 'expression': 'coalesce(' ~ ad_window ~ 'clicks, 0)'},
                'ad_previous_click_through_rate': {'role': none, 'check': rate_check, 'expression': ad_window ~ 'click_through_rate'},
                'ad_previous_smoothed_click_through_rate': {'role': 'numeric', 'check': '{c} is not null and {c} >= 0 and {c} <= 1', 'expression':
                    'coalesce(' ~ ad_window ~ 'smoothed_click_through_rate, placement_priors.prior_mean)'},
            }},
            {'per_window': false, 'columns': {
                'user_previous_impressions': {'role': 'numeric', 'expression': 'user_histories.previous_impressions'},
                'user_previous_clicks': {'role': none, 'expression': 'user_histories.previous_clicks'},
                'user_previous_click_through_rate': {'role': 'numeric', 'expression':
                    safe_rate('user_histories.previous_clicks', 'user_histories.previous_impressions')},
                'category_launch_date': {'role': none, 'expression': 'category_launches.category_launch_date'},
                'days_since_category_launch': {'role': 'numeric', 'drift': 'trend', 'expression':
                    'cast(' ~ days_between('category_launches.category_launch_date', 'impressions.impression_date') ~ ' as integer)'},
                'is_new_category': {'role': 'numeric', 'expression':
                    'coalesce(category_launches.category_launch_date > impression_history.history_start_date, false)'},
            }},
            {'per_window': false, 'columns': {
                'viewer_category_previous_impressions': {'role': none, 'check': '{c} is not null and {c} >= 0', 'expression':
                    viewer_category ~ 'previous_impressions'},
                'viewer_category_previous_clicks': {'role': none, 'check': '{c} is not null and {c} >= 0', 'expression':
                    viewer_category ~ 'previous_clicks'},
                'viewer_category_previous_smoothed_click_through_rate': {'role': 'numeric', 'check': '{c} is not null and {c} > 0 and {c} < 1', 'expression':
                    viewer_category ~ 'previous_smoothed_click_through_rate'},
                'viewer_category_previous_click_log_odds': {'role': 'numeric', 'check': '{c} is not null', 'expression':
                    'ln(' ~ viewer_category ~ 'previous_smoothed_click_through_rate / (1 - ' ~ viewer_category ~ 'previous_smoothed_click_through_rate))'},
                'viewer_category_previous_log_impressions': {'role': 'numeric', 'check': '{c} is not null and {c} >= 0', 'expression':
                    'ln(1 + ' ~ viewer_category ~ 'previous_impressions)'},
                'viewer_category_history_cell': {'role': 'categorical', 'check': '{c} is not null', 'expression':
                    "concat(cast(least(" ~ viewer_category ~ "previous_clicks, 5) as string), ':', cast(least(cast(floor(ln(1 + " ~ viewer_category ~ "previous_impressions) / ln(1.5)) as integer), 12) as string))"},
            }},
        ],
    }) }}
{%- endmacro %}
