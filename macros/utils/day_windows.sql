{#- windows_days_var(name): a windows var checked: a non-empty list of distinct positive whole days (see _utils__macros.yml). -#}
{% macro windows_days_var(name) -%}
    {%- set windows = var(name) -%}
    {%- if windows is string or windows is mapping or windows is not iterable or windows | length == 0 -%}
        {{ exceptions.raise_compiler_error(name ~ " must be a non-empty list of positive whole days, got " ~ windows) }}
    {%- endif -%}
    {%- set checked = [] -%}
    {%- for window in windows -%}
        {%- do checked.append(warehouse_ml.check_whole_number(window, name, minimum=1,
            message=name ~ " must hold positive whole numbers of days, got " ~ windows)) -%}
    {%- endfor -%}
    {%- if checked | unique | list | length != checked | length -%}
        {{ exceptions.raise_compiler_error(name ~ " must not repeat a window, got " ~ windows) }}
    {%- endif -%}
    {{ return(checked) }}
{%- endmacro %}
