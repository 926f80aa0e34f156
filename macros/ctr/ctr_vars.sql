{#- ctr_rolling_windows(): the ctr_rolling_windows_days var, checked: a non-empty list of distinct positive whole days. -#}
{% macro ctr_rolling_windows() -%}
    {{ return(warehouse_ml.windows_days_var('ctr_rolling_windows_days')) }}
{%- endmacro %}


{#- ctr_evaluation_date(impressions): SQL date of the CTR evaluation day (see _ctr__macros.yml). -#}
{% macro ctr_evaluation_date(impressions) -%}
    {%- set end_date = warehouse_ml.checked_var('ctr_training_end_date') -%}
    {%- if end_date -%}
        {%- set day = modules.datetime.date.fromisoformat(end_date) + modules.datetime.timedelta(days=1) -%}
        {{ return("cast(" ~ warehouse_ml.sql_string_literal(day.isoformat()) ~ " as date)") }}
    {%- endif -%}
    {{ return('(select max(impression_date) from ' ~ impressions ~ ')') }}
{%- endmacro %}


{#- ctr_training_window(impressions, sampling): the impressions of a time-window training set (see _ctr__macros.yml). -#}
{% macro ctr_training_window(impressions, sampling) -%}
    {%- if not execute and not sampling -%}
        {#- Parsing, before the graph holds the training model's meta: any select will do. -#}
        {{ return('select * from ' ~ impressions) }}
    {%- endif -%}
    {%- for key in ['time_column', 'window_days', 'end_date'] if key not in sampling -%}
        {{ exceptions.raise_compiler_error("ctr_training_window: the sampling spec has no `" ~ key ~ "` (needs time_column, window_days, end_date), got " ~ sampling) }}
    {%- endfor -%}
    {%- if sampling.end_date -%}
        {{ return(time_window(impressions, sampling.time_column, sampling.window_days, end_date=sampling.end_date)) }}
    {%- endif -%}
    {#- No end date: the window ends on the last impression day before the evaluation day (a subquery, not a
        CTE: time_window reads its input twice and DuckDB would materialise a CTE). -#}
    {%- set before_evaluation_day -%}
        (select * from {{ impressions }} where {{ sampling.time_column }} < {{ ctr_evaluation_date(impressions) }}) as impressions_before_evaluation_day
    {%- endset -%}
    {{ return(time_window(before_evaluation_day, sampling.time_column, sampling.window_days)) }}
{%- endmacro %}
