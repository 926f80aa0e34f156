{#- seeded_uniform(key_columns, seed, mode='native'): a DOUBLE in [0, 1) set by the key values and the seed alone (see _sampling__macros.yml). -#}
{% macro seeded_uniform(key_columns, seed, mode='native') -%}
    {%- set key_columns = warehouse_ml._sampling_check_columns('seeded_uniform', 'key_columns', key_columns, none) -%}
    {%- set seed = warehouse_ml._sampling_check_seed('seeded_uniform', seed) -%}
    {%- set mode = warehouse_ml._sampling_check_choice('seeded_uniform', 'mode', mode, ['native', 'portable']) -%}
    {{ return(adapter.dispatch('seeded_uniform', 'warehouse_ml')(key_columns, seed, mode)) }}
{%- endmacro %}

{#- The canonical key string used by portable mode (same text on DuckDB and Spark). -#}
{% macro _sampling_canonical_key(key_columns, seed) -%}
    concat_ws('|', '{{ seed }}'
        {%- for column in key_columns -%}
        , coalesce(cast({{ column }} as string), '<null>')
        {%- endfor -%}
    )
{%- endmacro %}

{% macro default__seeded_uniform(key_columns, seed, mode) -%}
    {%- if mode == 'portable' -%}
        (cast(cast(conv(substr(md5({{ warehouse_ml._sampling_canonical_key(key_columns, seed) }}), 1, 13), 16, 10) as bigint) as double) / 4503599627370496.0)
    {%- else -%}
        (cast(pmod(xxhash64(cast({{ seed }} as bigint), {{ key_columns | join(', ') }}), 4503599627370496) as double) / 4503599627370496.0)
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__seeded_uniform(key_columns, seed, mode) -%}
    {%- if mode == 'portable' -%}
        (cast(cast('0x' || substr(md5({{ warehouse_ml._sampling_canonical_key(key_columns, seed) }}), 1, 13) as bigint) as double) / 4503599627370496.0)
    {%- else -%}
        (cast(hash(xor(hash({{ key_columns | join(', ') }}), hash(cast({{ seed }} as bigint)))) % 4503599627370496 as double) / 4503599627370496.0)
    {%- endif -%}
{%- endmacro %}
