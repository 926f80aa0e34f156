{#- seeded_uniform(key_columns, seed, mode='native'): a SQL expression, a DOUBLE in [0, 1) that depends
    only on the key values and the seed. Rows are kept by comparing it with a rate, so a sample is the
    same on every run, at every thread count and in every physical row order.

    Different seeds give independent values: the seed is mixed in before the final hash. (DuckDB's
    `hash(key, seed)` is NOT a seeded hash: it combines hash(key) and hash(seed) linearly, so
    hash(k, 42) xor hash(k, 43) is the same for every k and two seeds give identical or disjoint samples.)

    mode='native'   the engine's fast 64-bit hash (DuckDB: hash(); Spark: xxhash64 seeded through its
                    first argument). Same rows on every run of one engine, different rows across engines.
    mode='portable' md5 of the canonical string '<seed>|<key1>|<key2>...' (nulls as '<null>'), first 13 hex
                    digits (52 bits) / 2^52. DuckDB and Spark compute the same value for integer and
                    string keys, so they select the same rows. Cast other key types to string yourself
                    if their text form differs between engines (timestamps with fractions, doubles).
-#}
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
