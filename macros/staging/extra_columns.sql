{#- User columns per raw table (vars extra_customer_columns, extra_impression_columns): validated, typed, listed. -#}

{% macro extra_columns(var_name, reserved=[]) -%}
    {%- set declared = var(var_name, {}) -%}
    {%- if declared is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- if declared is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ var_name ~ " must be a mapping {column: numeric | categorical}, got " ~ declared ~ "."
        ) }}
    {%- endif -%}
    {%- set columns = [] -%}
    {%- for name in declared | sort -%}
        {%- set role = declared[name] -%}
        {%- if not modules.re.match('^[a-z_][a-z0-9_]*$', name | string) -%}
            {{ exceptions.raise_compiler_error(
                "var " ~ var_name ~ ": column '" ~ name ~ "' must be a lowercase identifier (letters, digits, _)."
            ) }}
        {%- endif -%}
        {%- if name in reserved -%}
            {{ exceptions.raise_compiler_error(
                "var " ~ var_name ~ ": column '" ~ name ~ "' is already a column of the model; list only extra columns."
            ) }}
        {%- endif -%}
        {%- if role not in ['numeric', 'categorical'] -%}
            {{ exceptions.raise_compiler_error(
                "var " ~ var_name ~ ": column '" ~ name ~ "' has role '" ~ role ~ "'; allowed: numeric, categorical."
            ) }}
        {%- endif -%}
        {%- do columns.append({'name': name, 'role': role, 'type': 'double' if role == 'numeric' else 'string'}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}
