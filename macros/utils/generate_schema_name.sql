{#- Layers land in their own schema, named as in dbt_project.yml (staging, intermediate, marts, training),
    so BI tools see `marts.fct_ad_ctr_daily` rather than `main_marts.fct_ad_ctr_daily`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
