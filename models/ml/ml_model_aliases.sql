{#- Per model: the version every scorer uses (champion) and the newest one that does not serve (challenger). -#}
{%- set model_names = var('ml_models').keys() | sort -%}
{%- set rollback_models = warehouse_ml.checked_var('ml_rollback_models') -%}
{%- set decisions_relation = ref('ml_model_decisions') -%}
{%- set is_unit_test = model.resource_type == 'unit_test' -%}
{%- set can_look_up = execute and flags.WHICH in ('run', 'build') and not is_unit_test
    and load_relation(decisions_relation) is not none -%}
{%- set pinned_versions = {} -%}
{%- for model_name in model_names -%}
    {%- set version_var = model_name ~ '_model_version' -%}
    {%- set pinned = warehouse_ml.model_version_var(version_var) -%}
    {%- set registry = ref('ml_' ~ model_name ~ '_model') -%}
    {%- if pinned is not none and can_look_up -%}
        {%- set lookup -%}
            select count(*) from {{ registry }}
            where model_name = {{ sql_string_literal(model_name) }} and model_version = {{ sql_string_literal(pinned) }}
        {%- endset -%}
        {%- if run_query(lookup).columns[0].values()[0] == 0 -%}
            {{ exceptions.raise_compiler_error("ml_model_aliases: var '" ~ version_var ~ "' pins version '" ~ pinned ~ "' of model '" ~ model_name ~ "', which is not in " ~ registry ~ "; set it to a registered model_version or to null (the champion serves)") }}
        {%- endif -%}
    {%- endif -%}
    {%- if model_name in rollback_models and can_look_up -%}
        {%- set lookup -%}
            select count(*) from {{ decisions_relation }}
            where model_name = {{ sql_string_literal(model_name) }} and is_serving
        {%- endset -%}
        {%- set champions = run_query(lookup).columns[0].values()[0] -%}
        {%- if champions < 2 -%}
            {{ exceptions.raise_compiler_error("ml_model_aliases: var 'ml_rollback_models' rolls back model '" ~ model_name ~ "', but " ~ decisions_relation ~ " holds " ~ champions ~ " champion(s) of it, so there is no earlier champion to serve; remove it from ml_rollback_models (or pin a version with var '" ~ version_var ~ "')") }}
        {%- endif -%}
    {%- endif -%}
    {%- do pinned_versions.update({model_name: pinned}) -%}
{%- endfor -%}

with

decisions as (
    select * from {{ decisions_relation }}
),

overrides as (
    {%- for model_name in model_names %}
        {%- set pinned = pinned_versions[model_name] %}
        select
            {{ sql_string_literal(model_name) }} as model_name,
            cast({{ 'null' if pinned is none else sql_string_literal(pinned) }} as string) as pinned_version,
            {{ 'true' if model_name in rollback_models else 'false' }} as is_rolled_back
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

ranked_decisions as (
    select
        *,
        row_number() over (partition by model_name order by decision_number desc) as decision_rank,
        case
            when is_serving
                then row_number() over (partition by model_name, is_serving order by decision_number desc)
        end as serving_rank,
        row_number() over (partition by model_name, model_version order by decision_number desc)
            as version_rank
    from decisions
),

log_champions as (
    select * from ranked_decisions
    where serving_rank = 1
),

previous_champions as (
    select * from ranked_decisions
    where serving_rank = 2
),

pinned_decisions as (
    select ranked_decisions.*
    from ranked_decisions
    inner join overrides
        on
            ranked_decisions.model_name = overrides.model_name
            and ranked_decisions.model_version = overrides.pinned_version
    where ranked_decisions.version_rank = 1
),

champions as (
    select
        overrides.model_name,
        'champion' as alias,  -- noqa: RF04
        case
            when overrides.pinned_version is not null then overrides.pinned_version
            when overrides.is_rolled_back then previous_champions.model_version
            else log_champions.model_version
        end as model_version,
        case
            when overrides.pinned_version is not null then pinned_decisions.decided_at
            when overrides.is_rolled_back then previous_champions.decided_at
            else log_champions.decided_at
        end as decided_at,
        case
            when overrides.pinned_version is not null then 'pinned'
            when overrides.is_rolled_back then 'rollback'
            else log_champions.resolved_by
        end as resolved_by,
        log_champions.metric_name,
        log_champions.dataset,
        case
            when overrides.pinned_version is not null then pinned_decisions.model_metric
            when overrides.is_rolled_back then previous_champions.model_metric
            else log_champions.model_metric
        end as model_metric,
        case
            when overrides.pinned_version is not null or overrides.is_rolled_back
                then log_champions.model_version
            else log_champions.champion_version
        end as champion_version,
        case
            when overrides.pinned_version is not null or overrides.is_rolled_back
                then log_champions.model_metric
            else log_champions.champion_metric
        end as champion_metric,
        log_champions.margin,
        case
            when overrides.pinned_version is not null
                then concat(
                    'pinned by var ', overrides.model_name,
                    '_model_version; the decision log''s champion is champion_version'
                )
            when overrides.is_rolled_back
                then
                    'rolled back by var ml_rollback_models to the champion before the decision log''s '
                    || '(champion_version)'
            else log_champions.reason
        end as reason
    from overrides
    left join log_champions
        on overrides.model_name = log_champions.model_name
    left join previous_champions
        on overrides.model_name = previous_champions.model_name
    left join pinned_decisions
        on overrides.model_name = pinned_decisions.model_name
),

challengers as (
    select
        ranked_decisions.model_name,
        'challenger' as alias,  -- noqa: RF04
        ranked_decisions.model_version,
        ranked_decisions.decided_at,
        ranked_decisions.resolved_by,
        ranked_decisions.metric_name,
        ranked_decisions.dataset,
        ranked_decisions.model_metric,
        ranked_decisions.champion_version,
        ranked_decisions.champion_metric,
        ranked_decisions.margin,
        ranked_decisions.reason
    from ranked_decisions
    inner join champions
        on ranked_decisions.model_name = champions.model_name
    where
        ranked_decisions.decision_rank = 1
        and not ranked_decisions.is_serving
        and ranked_decisions.model_version != champions.model_version
),

aliases as (
    select * from champions
    union all
    select * from challengers
)

select * from aliases
