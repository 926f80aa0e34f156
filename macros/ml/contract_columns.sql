{#- contract_columns(relation_name): the select list of the calling model's contract (see _ml__macros.yml). -#}
{% macro contract_columns(relation_name) -%}
    {%- if not execute -%}
        {{ return('*') }}
    {%- endif -%}
    {%- set columns = model.columns.values() | list -%}
    {%- if columns | length == 0 or columns | selectattr('data_type', 'none') | list | length > 0 -%}
        {{ exceptions.raise_compiler_error("contract_columns: model " ~ model.name ~ " must declare every column with a data_type in its yml (its contract); got " ~ (columns | map(attribute='name') | list)) }}
    {%- endif -%}
    {%- for column in columns %}
        cast({{ relation_name }}.{{ column.name }} as {{ column.data_type }}) as {{ column.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
