{#- Value-list test: every non-null value is non-empty and in var(var_name) (any non-empty value when it is null). -#}
{% test in_value_list(model, column_name, var_name) %}

select
    {{ column_name }} as value,
    count(*) as row_count
from {{ model }}
where
    {{ column_name }} is not null
    and ({{ warehouse_ml.value_list_failure(column_name, var_name) }})
group by {{ column_name }}

{% endtest %}
