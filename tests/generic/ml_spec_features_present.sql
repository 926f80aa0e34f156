{#- Fails when the ml_model_specs row of a model is stale or a relation the model reads lacks one of its features (see _generic__tests.yml). -#}
{% test ml_spec_features_present(model, model_name) %}
    {%- set spec = warehouse_ml.ml_model_spec(model_name) -%}
    {%- set relation_names = [spec.training_set, spec.scoring_population]
        + (spec.evaluation_sets | map(attribute='relation') | list) -%}
    {%- set relations = {} -%}
    {%- for name in relation_names | unique -%}
        {%- do relations.update({name: ref(name)}) -%}
    {%- endfor -%}
    {%- set problems = [] -%}
    {%- if execute -%}
        {#- model.render(): the table itself, also under --empty (where `model` reads zero rows). -#}
        {%- set rows = run_query(
            "select numeric_features, categorical_features from " ~ model.render()
            ~ " where model_name = " ~ warehouse_ml.sql_string_literal(model_name)).rows -%}
        {%- if rows | length != 1 -%}
            {%- do problems.append({'relation': model | string, 'feature': '(no single row for ' ~ model_name ~ ')'}) -%}
        {%- else -%}
            {%- set stored = {'numeric': fromjson(rows[0][0]), 'categorical': fromjson(rows[0][1])} -%}
            {%- for role in ['numeric', 'categorical'] -%}
                {%- if stored[role] != spec[role ~ '_features'] -%}
                    {%- do problems.append({'relation': model | string, 'feature': role ~ ' features differ from ml_model_spec: '
                        ~ (stored[role] | join(',')) ~ ' vs ' ~ (spec[role ~ '_features'] | join(','))}) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- for name, relation in relations.items() -%}
                {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
                {%- if columns | length == 0 -%}
                    {%- do problems.append({'relation': name, 'feature': '(relation not built)'}) -%}
                {%- endif -%}
                {%- for feature in stored.numeric + stored.categorical if columns and feature | lower not in columns -%}
                    {%- do problems.append({'relation': name, 'feature': feature}) -%}
                {%- endfor -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif %}

with

problems as (
    {%- for problem in problems %}
        select
            cast({{ warehouse_ml.sql_string_literal(problem.relation) }} as string) as relation_name,
            cast({{ warehouse_ml.sql_string_literal(problem.feature) }} as string) as missing_feature
        {%- if not loop.last %}
        union all
        {%- endif %}
    {%- else %}
        select
            cast(null as string) as relation_name,
            cast(null as string) as missing_feature
        where 1 = 0
    {%- endfor %}
)

select * from problems

{% endtest %}
