{#- rows_symmetric_difference(actual, expected, columns=none): the rows of `actual` that `expected` lacks
    (issue 'kept but not expected') and the reverse ('expected but not kept'), compared as sets on
    `columns` (none: every column, in order). Empty when both hold the same rows: the body of a singular
    test comparing a macro's output with hand-written expected rows. -#}
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
