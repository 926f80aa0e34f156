{#- feature_declaration(feature_set): the declaration of a feature set, 'churn' or 'ctr' (see _ml__macros.yml). -#}
{% macro feature_declaration(feature_set) -%}
    {%- if feature_set == 'churn' -%}
        {{ return(warehouse_ml.churn_feature_declaration()) }}
    {%- elif feature_set == 'ctr' -%}
        {{ return(warehouse_ml.ctr_feature_declaration()) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("unknown feature_set '" ~ feature_set ~ "'; allowed: churn, ctr") }}
{%- endmacro %}


{#- feature_set_columns(feature_set): every declared column of the feature mart, in order, windows expanded (see _ml__macros.yml). -#}
{% macro feature_set_columns(feature_set) -%}
    {%- set declaration = feature_declaration(feature_set) -%}
    {%- set columns = [] -%}
    {%- for group in declaration.groups -%}
        {%- for window in (declaration.windows if group.per_window else [none]) -%}
            {%- for name, column in group.columns.items() -%}
                {%- set drift = column.get('drift', 'monitored') -%}
                {%- if drift not in ['monitored', 'trend'] -%}
                    {{ exceptions.raise_compiler_error("feature_set_columns(" ~ feature_set ~ "): column " ~ name ~ ": drift must be 'monitored' or 'trend', got '" ~ drift ~ "'") }}
                {%- endif -%}
                {%- if window is none -%}
                    {%- do columns.append({'name': name, 'role': column.role, 'expression': column.expression, 'check': column.get('check'), 'drift': drift}) -%}
                {%- else -%}
                    {%- do columns.append({
                        'name': name ~ '_' ~ window ~ 'd',
                        'role': column.role,
                        'expression': column.expression | replace('{w}', window | string),
                        'check': column.get('check'),
                        'drift': drift,
                    }) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set reserved = declaration.reserved_columns + columns | map(attribute='name') | list -%}
    {%- for extra in warehouse_ml.extra_columns(declaration.extra_columns_var, reserved=reserved) -%}
        {%- do columns.append({'name': extra.name, 'role': extra.role, 'expression': declaration.extra_columns_relation ~ '.' ~ extra.name, 'check': none, 'drift': 'monitored'}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}


{#- feature_columns(feature_set): {'numeric': [...], 'categorical': [...]}, the model features of a feature set (see _ml__macros.yml). -#}
{% macro feature_columns(feature_set) -%}
    {%- set features = {'numeric': [], 'categorical': []} -%}
    {%- for column in feature_set_columns(feature_set) if column.role is not none -%}
        {%- do features[column.role].append(column.name) -%}
    {%- endfor -%}
    {{ return(features) }}
{%- endmacro %}


{#- trend_features(feature_set): the model features declared drift: 'trend', which move with the calendar and are not monitored for drift (see _ml__macros.yml). -#}
{% macro trend_features(feature_set) -%}
    {%- set names = [] -%}
    {%- for column in feature_set_columns(feature_set) if column.role is not none and column.drift == 'trend' -%}
        {%- do names.append(column.name) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}
