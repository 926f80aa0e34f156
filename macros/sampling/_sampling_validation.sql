{#- Private helpers of the sampling macros: argument checks naming macro, argument, value and what is allowed; a run-time guard. -#}

{#- A fraction in (0, 1]. Returns it as a float. -#}
{% macro _sampling_check_fraction(macro_name, arg_name, value) -%}
    {%- if value is none or value is boolean or value is not number or value <= 0 or value > 1 -%}
        {{ exceptions.raise_compiler_error(
            macro_name ~ ": argument `" ~ arg_name ~ "` must be a number in (0, 1], got " ~ (value | string)
            ~ ". Pass e.g. " ~ arg_name ~ "=0.1 for a 10% sample.") }}
    {%- endif -%}
    {{ return(value | float) }}
{%- endmacro %}


{#- A whole number >= minimum (<= maximum when given), through check_whole_number. Returns it as an int. -#}
{% macro _sampling_check_whole_number(macro_name, arg_name, value, minimum, maximum=none, allow_none=false, hint='') -%}
    {{ return(warehouse_ml.check_whole_number(value, macro_name ~ ": argument `" ~ arg_name ~ "`", minimum=minimum,
        maximum=maximum, allow_none=allow_none, hint=hint)) }}
{%- endmacro %}


{#- A seed: a whole number >= 0 (Spark's REPEATABLE needs a non-negative integer constant). -#}
{% macro _sampling_check_seed(macro_name, seed, allow_none=false) -%}
    {%- if seed is none and allow_none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(warehouse_ml._sampling_check_whole_number(macro_name, 'seed', seed, 0,
        hint='Pass e.g. seed=42; the same seed gives the same sample.')) }}
{%- endmacro %}


{#- True when `obj` is a dbt Relation (ref/source/api.Relation) rather than a CTE name or SQL string. -#}
{% macro _sampling_is_relation(obj) -%}
    {{ return(obj is mapping and obj.get('metadata', {}).get('type', '').endswith('Relation')) }}
{%- endmacro %}


{#- Column names: a string or a non-empty list of strings, checked against a Relation's columns. Returns a list. -#}
{% macro _sampling_check_columns(macro_name, arg_name, columns, relation) -%}
    {%- if columns is string -%}
        {%- set columns = [columns] -%}
    {%- endif -%}
    {%- if columns is none or columns is mapping or columns is not iterable or columns | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            macro_name ~ ": argument `" ~ arg_name ~ "` must be a column name or a non-empty list of column names, got "
            ~ (columns | string) ~ ".") }}
    {%- endif -%}
    {%- for column in columns -%}
        {%- if column is not string or column | trim == '' -%}
            {{ exceptions.raise_compiler_error(
                macro_name ~ ": argument `" ~ arg_name ~ "` must hold column names (strings), got " ~ (column | string) ~ ".") }}
        {%- endif -%}
    {%- endfor -%}
    {%- if execute and warehouse_ml._sampling_is_relation(relation) -%}
        {%- set existing = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- if existing | length > 0 -%}
            {%- for column in columns -%}
                {%- if column | lower not in existing -%}
                    {{ exceptions.raise_compiler_error(
                        macro_name ~ ": argument `" ~ arg_name ~ "` names column '" ~ column ~ "', which is not in "
                        ~ relation ~ ". Available columns: " ~ (existing | join(', ')) ~ ".") }}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(columns | list) }}
{%- endmacro %}


{#- One of `allowed` (case-insensitive). Returns it lower-cased. -#}
{% macro _sampling_check_choice(macro_name, arg_name, value, allowed) -%}
    {%- if value is not string or value | lower not in allowed -%}
        {{ exceptions.raise_compiler_error(
            macro_name ~ ": argument `" ~ arg_name ~ "` must be one of " ~ (allowed | join(', ')) ~ ", got "
            ~ (value | string) ~ ".") }}
    {%- endif -%}
    {{ return(value | lower) }}
{%- endmacro %}


{#- A SQL expression that fails the query with message_expr when evaluated (see _sampling__macros.yml). -#}
{% macro _sampling_raise_runtime_error(message_expr) -%}
    {{ return(adapter.dispatch('_sampling_raise_runtime_error', 'warehouse_ml')(message_expr)) }}
{%- endmacro %}

{% macro default___sampling_raise_runtime_error(message_expr) -%}
    cast(raise_error({{ message_expr }}) as double)
{%- endmacro %}

{% macro duckdb___sampling_raise_runtime_error(message_expr) -%}
    cast(error({{ message_expr }}) as double)
{%- endmacro %}
