{#- ml_model_spec(model_name): the checked spec of one model of var('ml_models'), features derived (see _ml__macros.yml). -#}
{% macro ml_model_spec(model_name) -%}
    {%- set models = var('ml_models') -%}
    {%- if models is not mapping or models | length == 0 -%}
        {{ exceptions.raise_compiler_error("ml_models must be a mapping {model_name: spec}, got " ~ models) }}
    {%- endif -%}
    {%- if model_name not in models -%}
        {{ exceptions.raise_compiler_error("ml_models has no model '" ~ model_name ~ "'; declared: " ~ (models.keys() | list | join(', '))) }}
    {%- endif -%}
    {%- set spec = models[model_name] -%}
    {%- set where = 'ml_models.' ~ model_name -%}
    {%- set required = [
        'feature_set', 'training_set', 'label', 'weight_column', 'key_columns', 'algorithm', 'params',
        'calibration', 'evaluation_sets', 'scoring_population', 'max_training_rows', 'promotion',
    ] -%}
    {%- if spec is not mapping -%}
        {{ exceptions.raise_compiler_error(where ~ " must be a mapping with keys " ~ (required | join(', ')) ~ ", got " ~ spec) }}
    {%- endif -%}
    {%- set missing = required | reject('in', spec.keys() | list) | list -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(where ~ " is missing key(s) " ~ (missing | join(', ')) ~ "; every model needs " ~ (required | join(', '))) }}
    {%- endif -%}
    {%- set optional = ['random_state'] -%}
    {%- set unknown = spec.keys() | reject('in', required + optional) | list -%}
    {%- if unknown -%}
        {{ exceptions.raise_compiler_error(where ~ " has unknown key(s) " ~ (unknown | join(', ')) ~ "; allowed: " ~ ((required + optional) | join(', '))) }}
    {%- endif -%}
    {%- set random_state = warehouse_ml.check_whole_number(spec.get('random_state', var('ml_random_state')),
        where ~ ".random_state (or var ml_random_state)", minimum=0) -%}
    {%- set allowed = {
        'feature_set': ['churn', 'ctr'],
        'algorithm': ['hist_gradient_boosting', 'logistic_regression'],
        'calibration': ['none', 'negative_downsampling'],
    } -%}
    {%- for key, values in allowed.items() -%}
        {%- if spec[key] not in values -%}
            {{ exceptions.raise_compiler_error(where ~ "." ~ key ~ " must be one of " ~ (values | join(', ')) ~ ", got '" ~ spec[key] ~ "'") }}
        {%- endif -%}
    {%- endfor -%}
    {%- for key in ['training_set', 'label', 'scoring_population'] -%}
        {%- if spec[key] is not string or spec[key] | trim == '' -%}
            {{ exceptions.raise_compiler_error(where ~ "." ~ key ~ " must be a name, got '" ~ spec[key] ~ "'") }}
        {%- endif -%}
    {%- endfor -%}
    {%- if spec.weight_column is not none and (spec.weight_column is not string or spec.weight_column | trim == '') -%}
        {{ exceptions.raise_compiler_error(where ~ ".weight_column must be a column name or null, got '" ~ spec.weight_column ~ "'") }}
    {%- endif -%}
    {%- if spec.key_columns is string or spec.key_columns is mapping or spec.key_columns is not iterable
        or spec.key_columns | length == 0 or spec.key_columns | reject('string') | list | length > 0 -%}
        {{ exceptions.raise_compiler_error(where ~ ".key_columns must be a non-empty list of column names, got " ~ spec.key_columns) }}
    {%- endif -%}
    {%- if spec.params is not mapping -%}
        {{ exceptions.raise_compiler_error(where ~ ".params must be a mapping of estimator parameters ({} for the defaults), got " ~ spec.params) }}
    {%- endif -%}
    {%- set max_training_rows = warehouse_ml.check_whole_number(spec.max_training_rows, where ~ ".max_training_rows", minimum=1) -%}
    {%- set evaluation_keys = ['name', 'relation', 'split', 'weight_column'] -%}
    {%- if spec.evaluation_sets is string or spec.evaluation_sets is mapping or spec.evaluation_sets is not iterable -%}
        {{ exceptions.raise_compiler_error(where ~ ".evaluation_sets must be a list of {name, relation, split?, weight_column?}, got " ~ spec.evaluation_sets) }}
    {%- endif -%}
    {%- for evaluation_set in spec.evaluation_sets -%}
        {%- if evaluation_set is not mapping or 'name' not in evaluation_set or 'relation' not in evaluation_set
            or evaluation_set.keys() | reject('in', evaluation_keys) | list | length > 0 -%}
            {{ exceptions.raise_compiler_error(where ~ ".evaluation_sets[" ~ loop.index0 ~ "] must be a mapping with name and relation (optional: split, weight_column), got " ~ evaluation_set) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set promotion = warehouse_ml.ml_promotion_spec(spec, where) -%}
    {%- set features = feature_columns(spec.feature_set) -%}
    {%- set sampling_spec = training_sampling_spec(spec.training_set) -%}
    {%- set negative_downsampling_rate = none -%}
    {%- if spec.calibration == 'negative_downsampling' and execute -%}
        {%- if sampling_spec.get('negative_rate') is none -%}
            {{ exceptions.raise_compiler_error(where ~ ".calibration is negative_downsampling, but the meta.sampling of training set " ~ spec.training_set ~ " has no negative_rate; use calibration: none or a negatively downsampled training set") }}
        {%- endif -%}
        {%- set negative_downsampling_rate = sampling_spec.negative_rate | float -%}
    {%- endif -%}
    {#- Everything that determines the fitted model (not where it is evaluated or what it scores). -#}
    {%- set determining = {
        'model_name': model_name,
        'training_set': spec.training_set,
        'sampling_spec': sampling_spec,
        'label': spec.label,
        'weight_column': spec.weight_column,
        'key_columns': spec.key_columns | list,
        'numeric_features': features.numeric,
        'categorical_features': features.categorical,
        'algorithm': spec.algorithm,
        'params': spec.params,
        'calibration': spec.calibration,
        'negative_downsampling_rate': negative_downsampling_rate,
        'random_state': random_state,
    } -%}
    {%- set spec_row = determining.copy() -%}
    {%- do spec_row.update({
        'feature_set': spec.feature_set,
        'evaluation_sets': spec.evaluation_sets | list,
        'scoring_population': spec.scoring_population,
        'max_training_rows': max_training_rows,
        'promotion': promotion,
        'spec_fingerprint': local_md5(tojson(determining, sort_keys=true)),
    }) -%}
    {{ return(spec_row) }}
{%- endmacro %}


{#- training_sampling_spec(model_name): the `meta.sampling` dict of a training model, from the graph at execute time ({} while parsing). -#}
{% macro training_sampling_spec(model_name) -%}
    {%- if not execute -%}
        {{ return({}) }}
    {%- endif -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == model_name -%}
        {%- set sampling = node.config.meta.get('sampling') or node.meta.get('sampling') -%}
        {%- if sampling is not mapping -%}
            {{ exceptions.raise_compiler_error("training set " ~ model_name ~ " declares no meta.sampling; set config(meta={'sampling': {...}}) in the model") }}
        {%- endif -%}
        {{ return(sampling) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("training set '" ~ model_name ~ "' is not a model of this project (check ml_models.<model>.training_set)") }}
{%- endmacro %}


{#- ml_promotion_spec(spec, where): the checked `promotion` block of one model's spec (see _ml__macros.yml). -#}
{% macro ml_promotion_spec(spec, where) -%}
    {%- set promotion = spec.promotion -%}
    {%- set keys = ['metric', 'dataset', 'margin'] -%}
    {%- if promotion is not mapping or keys | reject('in', promotion.keys() | list) | list
        or promotion.keys() | reject('in', keys) | list -%}
        {{ exceptions.raise_compiler_error(where ~ ".promotion must be a mapping {metric, dataset, margin} (e.g. {metric: roc_auc, dataset: out_of_time, margin: 0.005}), got " ~ promotion) }}
    {%- endif -%}
    {#- Which metric names rank models, and in which direction, is declared once, in
        warehouse_ml.metrics.HIGHER_IS_BETTER: the spec's Python parser (specs.from_row) checks the
        name before anything is trained. Here: that it is a name. -#}
    {%- if promotion.metric is not string or not modules.re.match('^[a-z][a-z0-9_]*$', promotion.metric) -%}
        {{ exceptions.raise_compiler_error(where ~ ".promotion.metric must be a metric name such as roc_auc or normalized_entropy, got '" ~ promotion.metric ~ "'") }}
    {%- endif -%}
    {%- set evaluation_names = spec.evaluation_sets | map(attribute='name') | list -%}
    {%- if promotion.dataset not in evaluation_names -%}
        {{ exceptions.raise_compiler_error(where ~ ".promotion.dataset must be one of the model's evaluation_sets (" ~ (evaluation_names | join(', ')) ~ "), got '" ~ promotion.dataset ~ "'") }}
    {%- endif -%}
    {%- if promotion.margin is boolean or promotion.margin is not number or promotion.margin < 0 -%}
        {{ exceptions.raise_compiler_error(where ~ ".promotion.margin must be a number >= 0 (how much worse than the champion a new version may be and still serve), got '" ~ promotion.margin ~ "'") }}
    {%- endif -%}
    {{ return({'metric': promotion.metric, 'dataset': promotion.dataset, 'margin': promotion.margin | float}) }}
{%- endmacro %}
