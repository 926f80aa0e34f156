{#- score_history(scores, key_columns): the rows of scores whose key is not yet in {{ this }} (see _ml__macros.yml). -#}
{% macro score_history(scores, key_columns) -%}
    {%- if key_columns is string or key_columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("score_history: key_columns must be a non-empty list of column names, got " ~ key_columns) }}
    {%- endif -%}
    select scores.*
    from {{ scores }} as scores
    {%- if is_incremental() %}
    {#- An anti join both engines run alike: a scored key already in the history keeps its first row. #}
    left join (
        select distinct {{ key_columns | join(', ') }}
        from {{ this }}
    ) as history
        on
        {%- for column in key_columns %}
            {{ 'and ' if not loop.first }}scores.{{ column }} = history.{{ column }}
        {%- endfor %}
    where history.{{ key_columns[0] }} is null
    {%- endif %}
{%- endmacro %}
