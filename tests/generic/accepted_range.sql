{#- Range test: every non-null value of `column_name` lies in [min_value, max_value] (either bound optional). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error("accepted_range on " ~ model ~ "." ~ column_name ~ ": give min_value, max_value or both") }}
    {%- endif %}
    {%- set lower_op = '<' if inclusive else '<=' -%}
    {%- set upper_op = '>' if inclusive else '>=' %}

select {{ column_name }}
from {{ model }}
where
    {{ column_name }} is not null
    and (
        false
        {%- if min_value is not none %}
        or {{ column_name }} {{ lower_op }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or {{ column_name }} {{ upper_op }} {{ max_value }}
        {%- endif %}
    )

{% endtest %}
