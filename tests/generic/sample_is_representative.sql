{#- Fails for every feature whose sample drifts from its population (see _generic__tests.yml). -#}
{% test sample_is_representative(model, population, features=none, weight_column=none, max_psi=0.1, max_ks=none, max_relative_mean_difference=none, bins=10, population_where=none, feature_set=none) %}
    {%- set checked = [] if features is none else ([features] if features is string else features | list) -%}
    {%- if feature_set is not none -%}
        {%- for feature in warehouse_ml.feature_columns(feature_set).numeric if feature not in checked -%}
            {%- do checked.append(feature) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if checked | length == 0 -%}
        {{ exceptions.raise_compiler_error("sample_is_representative on " ~ model ~ ": give features, feature_set or both") }}
    {%- endif -%}
    {%- if max_psi is none and max_ks is none and max_relative_mean_difference is none -%}
        {{ exceptions.raise_compiler_error("sample_is_representative on " ~ model ~ ": give at least one of max_psi, max_ks, max_relative_mean_difference") }}
    {%- endif %}

with

feature_checks as (
    {{ warehouse_ml.sample_representativeness(model, population, checked, weight_column, bins, population_where) }}
)

select *
from feature_checks
where
    false
    {%- if max_psi is not none %}
    or psi > {{ max_psi }}
    {%- endif %}
    {%- if max_ks is not none %}
    or ks_statistic > {{ max_ks }}
    {%- endif %}
    {%- if max_relative_mean_difference is not none %}
    or abs(sample_mean - population_mean) > {{ max_relative_mean_difference }} * abs(population_mean)
    {%- endif %}
    or sample_rows = 0

{% endtest %}
