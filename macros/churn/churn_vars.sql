{#- churn_feature_windows(): the churn_feature_windows_days var, checked: a non-empty list of positive whole days. -#}
{% macro churn_feature_windows() -%}
    {%- set windows = var('churn_feature_windows_days') -%}
    {%- if windows is string or windows is not iterable or windows | length == 0 -%}
        {{ exceptions.raise_compiler_error("churn_feature_windows_days must be a non-empty list of positive whole days, got " ~ windows) }}
    {%- endif -%}
    {%- set checked = [] -%}
    {%- for window in windows -%}
        {%- if window is not number or window | int != window or window < 1 -%}
            {{ exceptions.raise_compiler_error("churn_feature_windows_days must be a non-empty list of positive whole days, got " ~ windows) }}
        {%- endif -%}
        {%- do checked.append(window | int) -%}
    {%- endfor -%}
    {%- if checked | unique | list | length != checked | length -%}
        {{ exceptions.raise_compiler_error("churn_feature_windows_days must not repeat a window, got " ~ windows) }}
    {%- endif -%}
    {{ return(checked) }}
{%- endmacro %}


{#- churn_int_var(name, minimum=1): the var `name`, checked to be a whole number of days >= minimum. -#}
{% macro churn_int_var(name, minimum=1) -%}
    {%- set value = var(name) -%}
    {%- if value is not number or value | int != value or value < minimum -%}
        {{ exceptions.raise_compiler_error(name ~ " must be a whole number of days >= " ~ minimum ~ ", got " ~ value) }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}


{#- churn_out_of_time_date(features): SQL date of the churn out-of-time evaluation (see _churn__macros.yml). -#}
{% macro churn_out_of_time_date(features) -%}
    {{ return('(select max(observation_date) from ' ~ features ~ ' where is_label_complete)') }}
{%- endmacro %}
