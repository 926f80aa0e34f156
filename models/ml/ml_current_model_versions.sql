{#- The model version every scorer uses, one row per model: pinned, or the newest of the current spec. -#}
{%- set model_names = var('ml_models').keys() | sort -%}
{%- set pinned_versions = {} -%}
{%- set specs = ref('ml_model_specs') -%}
{%- set is_unit_test = model.resource_type == 'unit_test' -%}
{%- set can_look_up = execute and flags.WHICH in ('run', 'build') and not is_unit_test -%}
{%- for model_name in model_names -%}
    {%- set version_var = model_name ~ '_model_version' -%}
    {%- set pinned = var(version_var, none) -%}
    {%- set pinned = none if pinned in (none, '', 'None', 'none', 'null') else pinned | string -%}
    {%- if pinned is not none -%}
        {%- for character in pinned -%}
            {%- if character not in 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-' -%}
                {{ exceptions.raise_compiler_error("ml_current_model_versions: var '" ~ version_var ~ "' is '" ~ pinned ~ "', not a model_version (letters, digits, '_', '.', '-'); set it to a registered model_version of ml_" ~ model_name ~ "_model or to null (the newest)") }}
            {%- endif -%}
        {%- endfor -%}
        {%- set registry = ref('ml_' ~ model_name ~ '_model') -%}
        {%- if can_look_up and load_relation(registry) is not none -%}
            {%- set lookup -%}
                select count(*) from {{ registry }}
                where model_name = '{{ model_name }}' and model_version = '{{ pinned }}'
            {%- endset -%}
            {%- if run_query(lookup).columns[0].values()[0] == 0 -%}
                {{ exceptions.raise_compiler_error("ml_current_model_versions: var '" ~ version_var ~ "' pins version '" ~ pinned ~ "' of model '" ~ model_name ~ "', which is not in " ~ registry ~ "; set it to a registered model_version or to null (the newest)") }}
            {%- endif -%}
        {%- endif -%}
    {%- elif can_look_up and load_relation(ref('ml_' ~ model_name ~ '_model')) is not none and load_relation(specs) is not none -%}
        {%- set registry = ref('ml_' ~ model_name ~ '_model') -%}
        {%- set lookup -%}
            select count(registered.model_version)
            from {{ specs }} as specs
            left join {{ registry }} as registered
                on specs.model_name = registered.model_name
                and specs.spec_fingerprint = registered.spec_fingerprint
            where specs.model_name = '{{ model_name }}'
        {%- endset -%}
        {%- if run_query(lookup).columns[0].values()[0] == 0 -%}
            {{ exceptions.raise_compiler_error("ml_current_model_versions: no version of model '" ~ model_name ~ "' in " ~ registry ~ " was trained from the current spec (its spec_fingerprint in " ~ specs ~ "); build ml_" ~ model_name ~ "_model to train one (dbt build --select ml_" ~ model_name ~ "_model+), or pin a registered version with var '" ~ model_name ~ "_model_version'") }}
        {%- endif -%}
    {%- endif -%}
    {%- do pinned_versions.update({model_name: pinned}) -%}
{%- endfor -%}

with

model_specs as (
    select * from {{ specs }}
),

{% for model_name in model_names %}
    {{ model_name }}_registry as (
        select * from {{ ref('ml_' ~ model_name ~ '_model') }}
    ),

{% endfor -%}

registered_versions as (
    {%- for model_name in model_names %}
        select
            model_name,
            model_version,
            trained_at,
            spec_fingerprint
        from {{ model_name }}_registry
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

pinned_versions as (
    {%- for model_name in model_names %}
        {%- set pinned = pinned_versions[model_name] %}
        {%- set pinned_literal = 'cast(null as string)' if pinned is none else "'" ~ pinned ~ "'" %}
        select
            '{{ model_name }}' as model_name,
            {{ pinned_literal }} as pinned_version
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

current_spec_versions as (
    select
        registered_versions.model_name,
        registered_versions.model_version,
        registered_versions.trained_at
    from registered_versions
    inner join model_specs
        on
            registered_versions.model_name = model_specs.model_name
            and registered_versions.spec_fingerprint = model_specs.spec_fingerprint
),

ranked_versions as (
    select
        model_name,
        model_version,
        row_number() over (
            partition by model_name
            order by trained_at desc, model_version desc
        ) as newest_rank
    from current_spec_versions
),

current_versions as (
    select
        pinned_versions.model_name,
        case
            when pinned_versions.pinned_version is not null
                then pinned_registered.model_version
            else ranked_versions.model_version
        end as model_version,
        case
            when pinned_versions.pinned_version is not null then 'pinned'
            else 'newest'
        end as resolved_by
    from pinned_versions
    left join ranked_versions
        on
            pinned_versions.model_name = ranked_versions.model_name
            and ranked_versions.newest_rank = 1
    left join registered_versions as pinned_registered
        on
            pinned_versions.model_name = pinned_registered.model_name
            and pinned_versions.pinned_version = pinned_registered.model_version
)

select * from current_versions
