{#- One row per model of var('ml_models'): its spec, features derived, sampling spec from the training set's meta. -#}
{%- set model_names = var('ml_models').keys() | list -%}
{%- for model_name in model_names %}
-- depends_on: {{ ref(var('ml_models')[model_name].training_set) }}
{%- endfor %}

with

model_specs as (
    {%- for model_name in model_names %}
        {%- set spec = ml_model_spec(model_name) %}
        {%- set weight_column = 'null' if spec.weight_column is none else sql_string_literal(spec.weight_column) %}
        select
            cast({{ sql_string_literal(spec.model_name) }} as string) as model_name,
            cast({{ sql_string_literal(spec.training_set) }} as string) as training_set,
            cast({{ sql_string_literal(spec.label) }} as string) as label,  -- noqa: RF04
            cast({{ weight_column }} as string) as weight_column,
            cast({{ sql_string_literal(tojson(spec.key_columns, sort_keys=true)) }} as string) as key_columns,
            cast({{ sql_string_literal(tojson(spec.numeric_features, sort_keys=true)) }} as string) as numeric_features,
            cast({{ sql_string_literal(tojson(spec.categorical_features, sort_keys=true)) }} as string)
                as categorical_features,
            cast({{ sql_string_literal(spec.algorithm) }} as string) as algorithm,
            cast({{ sql_string_literal(tojson(spec.params, sort_keys=true)) }} as string) as params,
            cast({{ sql_string_literal(spec.calibration) }} as string) as calibration,
            cast({{ 'null' if spec.negative_downsampling_rate is none else spec.negative_downsampling_rate }} as double)
                as negative_downsampling_rate,
            cast({{ sql_string_literal(tojson(spec.sampling_spec, sort_keys=true)) }} as string) as sampling_spec,
            cast({{ sql_string_literal(tojson(spec.evaluation_sets, sort_keys=true)) }} as string) as evaluation_sets,
            cast({{ sql_string_literal(spec.scoring_population) }} as string) as scoring_population,
            cast({{ spec.max_training_rows }} as bigint) as max_training_rows,
            cast({{ spec.random_state }} as bigint) as random_state,
            cast({{ sql_string_literal(spec.promotion.metric) }} as string) as promotion_metric,
            cast({{ sql_string_literal(spec.promotion.dataset) }} as string) as promotion_dataset,
            cast({{ spec.promotion.margin }} as double) as promotion_margin,
            cast({{ sql_string_literal(spec.spec_fingerprint) }} as string) as spec_fingerprint
        {%- if not loop.last %}

            union all
        {% endif %}
    {%- endfor %}
)

select * from model_specs
