{#- Warns when a model's newest version does not serve (a challenger in ml_model_aliases), naming the model,
    both versions and both figures: in the warning printed by the build and in the returned rows. -#}
{{ config(severity='warn') }}

{%- set aliases = ref('ml_model_aliases') -%}
{%- if execute and flags.WHICH in ('test', 'build') and load_relation(aliases) is not none -%}
    {%- set lookup -%}
        select model_name, model_version, metric_name, dataset, model_metric, champion_version, champion_metric, margin
        from {{ aliases }}
        where alias = 'challenger'
        order by model_name
    {%- endset -%}
    {%- for row in run_query(lookup).rows -%}
        {%- set figures = [] -%}
        {%- for value in [row[4], row[6]] -%}
            {%- do figures.append('undefined' if value is none else '%.6f' | format(value)) -%}
        {%- endfor -%}
        {%- do exceptions.warn(
            "model '" ~ row[0] ~ "': the newest version " ~ row[1] ~ " does not serve: its " ~ row[2]
            ~ " on " ~ row[3] ~ " is " ~ figures[0] ~ ", the champion " ~ row[5] ~ "'s is " ~ figures[1]
            ~ " (margin " ~ row[7] ~ "); scoring uses the champion " ~ row[5]
            ~ " (see ml_model_aliases; pin var " ~ row[0] ~ "_model_version to serve the challenger anyway)"
        ) -%}
    {%- endfor -%}
{%- endif %}

with

aliases as (
    select * from {{ aliases }}
),

challengers as (
    select
        model_name,
        model_version as challenger_version,
        model_metric as challenger_metric,
        champion_version,
        champion_metric,
        metric_name,
        dataset,
        margin
    from aliases
    where alias = 'challenger'
)

select * from challengers
