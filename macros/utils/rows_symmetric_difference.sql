{#- rows_symmetric_difference(actual, expected, columns=none): the rows one side has and the other lacks (see _utils__macros.yml). -#}
{% macro rows_symmetric_difference(actual, expected, columns=none) -%}
    {%- set select_list = columns | join(', ') if columns else '*' -%}
    select
        'kept but not expected' as issue,
        extra.*
    from (
        select {{ select_list }} from {{ actual }}
        except
        select {{ select_list }} from {{ expected }}
    ) as extra
    union all
    select
        'expected but not kept' as issue,
        missing.*
    from (
        select {{ select_list }} from {{ expected }}
        except
        select {{ select_list }} from {{ actual }}
    ) as missing
{%- endmacro %}
