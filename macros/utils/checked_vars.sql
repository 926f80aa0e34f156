{#- Checked vars: each reads var(name) and returns it checked, or fails with
    "<name> must be <allowed>, got <value>. <hint>" (see _utils__macros.yml). -#}

{#- _var_error(name, allowed, value, hint=''): the one message shape of a refused var. -#}
{% macro _var_error(name, allowed, value, hint='') -%}
    {%- set shown = 'null' if value is none else ("'" ~ value ~ "'" if value is string else value | string) -%}
    {{ exceptions.raise_compiler_error(name ~ " must be " ~ allowed ~ ", got " ~ shown ~ "." ~ (" " ~ hint if hint else "")) }}
{%- endmacro %}


{#- number_var(name, lower, upper, ...): a finite number (not a boolean) within the bounds given. -#}
{% macro number_var(name, lower=none, upper=none, lower_inclusive=true, upper_inclusive=true, allow_none=false, hint='') -%}
    {%- set value = var(name) -%}
    {%- if value is none and allow_none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set is_finite = value is not none and value is not boolean and value is number and (value - value) == 0 -%}
    {%- set above_lower = lower is none or (is_finite and (value > lower or (lower_inclusive and value == lower))) -%}
    {%- set below_upper = upper is none or (is_finite and (value < upper or (upper_inclusive and value == upper))) -%}
    {%- if not (is_finite and above_lower and below_upper) -%}
        {%- if lower is not none and upper is not none -%}
            {%- set allowed = 'a number in ' ~ ('[' if lower_inclusive else '(') ~ lower ~ ', ' ~ upper ~ (']' if upper_inclusive else ')') -%}
        {%- elif lower is not none -%}
            {%- set allowed = 'a number ' ~ ('>= ' if lower_inclusive else '> ') ~ lower -%}
        {%- elif upper is not none -%}
            {%- set allowed = 'a number ' ~ ('<= ' if upper_inclusive else '< ') ~ upper -%}
        {%- else -%}
            {%- set allowed = 'a finite number' -%}
        {%- endif -%}
        {%- do warehouse_ml._var_error(name, allowed ~ (' or null' if allow_none else ''), value, hint) -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{#- whole_number_var(name, minimum=0, maximum=none, ...): a whole number, through check_whole_number. -#}
{% macro whole_number_var(name, minimum=0, maximum=none, allow_none=false, unit='', hint='') -%}
    {{ return(warehouse_ml.check_whole_number(var(name), name, minimum=minimum, maximum=maximum,
        allow_none=allow_none, unit=unit, hint=hint)) }}
{%- endmacro %}


{#- date_var(name, allow_none=false): a valid calendar date 'YYYY-MM-DD' (a YAML date too); returns the text. -#}
{% macro date_var(name, allow_none=false, hint='') -%}
    {%- set value = var(name) -%}
    {%- if value is none and allow_none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = '' if value is none or value is boolean or value is number or value is mapping else value | string -%}
    {%- set match = modules.re.match('^([0-9]{4})-([0-9]{2})-([0-9]{2})$', text) -%}
    {%- set is_valid = false -%}
    {%- if match -%}
        {%- set year, month, day = match.group(1) | int, match.group(2) | int, match.group(3) | int -%}
        {%- if year >= 1 and 1 <= month <= 12 and day >= 1 -%}
            {%- set month_end = 31 if month == 12 else (modules.datetime.date(year, month + 1, 1) - modules.datetime.timedelta(days=1)).day -%}
            {%- set is_valid = day <= month_end -%}
        {%- endif -%}
    {%- endif -%}
    {%- if not is_valid -%}
        {%- do warehouse_ml._var_error(name, "a date 'YYYY-MM-DD'" ~ (' or null' if allow_none else ''), value,
            hint or "E.g. '2024-03-31'.") -%}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}


{#- choice_var(name, allowed, allow_none=false, default=none): one of the texts `allowed`. -#}
{% macro choice_var(name, allowed, allow_none=false, default=none, hint='') -%}
    {%- set value = var(name) if default is none else var(name, default) -%}
    {%- if value is none and allow_none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if value is not string or value not in allowed -%}
        {%- do warehouse_ml._var_error(name, 'one of ' ~ (allowed | join(', ')) ~ (' or null' if allow_none else ''), value, hint) -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{#- model_version_var(name): null (no pin) or a model version, 16 lowercase hex digits; returns it or none. -#}
{% macro model_version_var(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if value is not string or not modules.re.match('^[0-9a-f]{16}$', value) -%}
        {%- set model = name[:-14] if name.endswith('_model_version') else '<model>' -%}
        {%- do warehouse_ml._var_error(name, 'null or a model version (16 lowercase hex digits)', value,
            'Pin a model_version of ml_' ~ model ~ '_model (quote it in --vars), or null for no pin.') -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{#- model_names_var(name): a list (possibly empty) of model names of var('ml_models'). -#}
{% macro model_names_var(name) -%}
    {%- set values = var(name, []) -%}
    {%- set models = var('ml_models', {}) -%}
    {%- set known = (models if models is mapping else {}) | sort -%}
    {%- set is_list = values is not none and values is not string and values is not mapping and values is iterable -%}
    {%- if not is_list or values | reject('in', known) | list -%}
        {%- do warehouse_ml._var_error(name, 'a list of models of ml_models (' ~ (known | join(', ')) ~ ')', values,
            'E.g. [churn]; [] for none.') -%}
    {%- endif -%}
    {{ return(values | list) }}
{%- endmacro %}


{#- path_var(name, allow_none=false): a folder path or URI the contract check and the engines read alike; trailing '/' dropped. -#}
{% macro path_var(name, allow_none=false) -%}
    {%- set value = var(name, none) if allow_none else var(name) -%}
    {%- if allow_none and value in (none, '') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = value if value is string else '' -%}
    {%- set interpreted = ["'", '"', '\\', '*', '?', '[', ']', '{', '}'] | select('in', text) | list -%}
    {%- if text | trim == '' or interpreted or text.startswith('~') or modules.re.search('[\\x00-\\x1f\\x7f]', text) -%}
        {%- do warehouse_ml._var_error(name,
            'a folder path or URI without quotes, backslashes, glob characters (* ? [ ] { }), control characters or a leading ~',
            value, 'DuckDB and Spark would expand those (~ to your home folder) while the raw contract check reads the path'
            ~ ' literally, so the models would read files the check never saw: rename the folder or give its full path.') -%}
    {%- endif -%}
    {{ return(text.rstrip('/')) }}
{%- endmacro %}


{#- string_list_var(name, allow_none=false): a non-empty list of non-empty texts. -#}
{% macro string_list_var(name, allow_none=false, hint='') -%}
    {%- set values = var(name) -%}
    {%- if values is none and allow_none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set is_list = values is not none and values is not string and values is not mapping and values is iterable -%}
    {%- if not is_list or values | length == 0 or values | reject('string') | list or values | map('trim') | select('equalto', '') | list -%}
        {%- do warehouse_ml._var_error(name, 'a non-empty list of non-empty texts' ~ (' or null' if allow_none else ''), values, hint) -%}
    {%- endif -%}
    {{ return(values | list) }}
{%- endmacro %}
