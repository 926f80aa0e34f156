{#- check_whole_number(value, name, ...): the one whole-number check; returns the int (see _utils__macros.yml). -#}
{% macro check_whole_number(value, name, minimum=0, maximum=none, allow_none=false, unit='', hint='', message=none) -%}
    {%- if value is none and allow_none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if value is none or value is boolean or value is not number or value != (value | int) or value < minimum
        or (maximum is not none and value > maximum) -%}
        {%- if message is none -%}
            {%- set allowed = ('in [' ~ minimum ~ ', ' ~ maximum ~ ']') if maximum is not none else ('>= ' ~ minimum) -%}
            {%- set message = name ~ " must be a whole number " ~ (unit ~ " " if unit else "") ~ allowed
                ~ (" or none" if allow_none else "") ~ ", got " ~ ("'" ~ value ~ "'" if value is string else value | string) ~ "."
                ~ (" " ~ hint if hint else "") -%}
        {%- endif -%}
        {{ exceptions.raise_compiler_error(message) }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}
