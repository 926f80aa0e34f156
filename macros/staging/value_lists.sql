{#- Staging value lists (vars staging_segments, ...): the column -> var map, safe SQL literals, and the failing condition. -#}

{% macro staging_value_list_vars() -%}
    {{ return({
        'segment': 'staging_segments',
        'region': 'staging_regions',
        'acquisition_channel': 'staging_acquisition_channels',
        'placement': 'staging_placements',
        'device': 'staging_devices',
    }) }}
{%- endmacro %}

{% macro value_list(var_name) -%}
    {{ return(warehouse_ml.checked_var(var_name)) }}
{%- endmacro %}

{#- The blank test (trim, which copies every string) is left out when the list holds no blank value:
    a blank value then fails `not in` anyway, so the condition is the same and reads 10M rows faster. -#}
{% macro value_list_failure(column, var_name) -%}
    {%- set values = warehouse_ml.value_list(var_name) -%}
    {%- set blank_values = (values or []) | map('string') | map('trim') | select('equalto', '') | list -%}
    {%- set condition = column ~ " is null" -%}
    {%- if values is none or blank_values -%}
        {%- set condition = condition ~ " or trim(" ~ column ~ ") = ''" -%}
    {%- endif -%}
    {%- if values is not none -%}
        {%- set condition = condition ~ " or " ~ column ~ " not in (" ~ warehouse_ml.sql_string_list(values) ~ ")" -%}
    {%- endif -%}
    {{ return(condition) }}
{%- endmacro %}

{% macro value_list_checks(columns) -%}
    {%- set list_vars = warehouse_ml.staging_value_list_vars() -%}
    {%- set checks = [] -%}
    {%- for column in columns -%}
        {%- if column not in list_vars -%}
            {{ exceptions.raise_compiler_error(
                "value_list_checks: no value-list var for column '" ~ column ~ "'; known: " ~ list_vars | list | join(', ')
            ) }}
        {%- endif -%}
        {%- do checks.append(['invalid_' ~ column, warehouse_ml.value_list_failure(column, list_vars[column])]) -%}
    {%- endfor -%}
    {{ return(checks) }}
{%- endmacro %}
