{#- Rejection-rate test of a stg model; reads the base model so its dependents wait (docs: _generic__tests.yml). -#}
{% test rejected_share(model, checked_model, raw_table=none, top_reasons=3) %}
    {{ config(fail_calc='max(failure_level)', warn_if='>= 1', error_if='>= 2') }}
    {%- set warn_share, error_share = warehouse_ml.rejected_share_limits() -%}

    {%- set shares_sql -%}
with

staged as (
    select count(*) as staged_rows
    from {{ model }}
),

rejected as (
    select count(*) as rejected_rows
    from {{ checked_model }}
    where
        not is_duplicate
        and rejection_reason is not null
),

shares as (
    select
        staged.staged_rows,
        rejected.rejected_rows,
        {{ warehouse_ml.safe_rate('rejected.rejected_rows', 'staged.staged_rows + rejected.rejected_rows') }} as rejected_share
    from staged
    cross join rejected
)

select
    staged_rows,
    rejected_rows,
    rejected_share,
    case
        when rejected_share > {{ error_share }} then 2
        when rejected_share > {{ warn_share }} then 1
        else 0
    end as failure_level
from shares
    {%- endset -%}

    {%- if execute -%}
        {%- set row = run_query(shares_sql).rows[0] -%}
        {%- set level = row['failure_level'] | int -%}
        {%- if level > 0 -%}
            {%- set table_name = raw_table or (model.identifier | replace('stg_', '', 1) | replace('__', '.', 1)) -%}
            {%- set reasons = run_query(
                "select rejection_reason, count(*) as rejected_rows from " ~ checked_model
                ~ " where not is_duplicate and rejection_reason is not null"
                ~ " group by rejection_reason order by rejected_rows desc, rejection_reason"
            ) -%}
            {%- set fixes = warehouse_ml.staging_reason_fixes() -%}
            {%- set reason_texts = [] -%}
            {%- set fix_texts = [] -%}
            {%- for reason in reasons.rows[:top_reasons] -%}
                {%- do reason_texts.append(reason[0] ~ ' ' ~ '{:,}'.format(reason[1] | int)) -%}
                {%- if reason[0] in fixes -%}
                    {%- do fix_texts.append(reason[0] ~ ' -> ' ~ fixes[reason[0]]) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- set share_var = 'staging_max_rejected_share' if level == 2 else 'staging_max_rejected_share_warn' -%}
            {%- set limit = error_share if level == 2 else warn_share -%}
            {%- do fix_texts.append('or raise var ' ~ share_var) -%}
            {%- set message = "Raw table " ~ table_name ~ ": staging rejected "
                ~ "%.2f" | format(row['rejected_share'] * 100) ~ "% of its rows ("
                ~ '{:,}'.format(row['rejected_rows'] | int) ~ " rejected of "
                ~ '{:,}'.format((row['rejected_rows'] + row['staged_rows']) | int) ~ " staged + rejected), above "
                ~ share_var ~ " = " ~ "%g" | format(limit * 100) ~ "%. Top reasons: " ~ reason_texts | join(', ')
                ~ ". Fix the raw data, or to accept such rows: " ~ fix_texts | join('; ')
                ~ " (docs/raw_data_contract.md). The rejected rows are in " ~ model.identifier ~ '_rejected' ~ "." -%}
            {%- if level == 2 -%}
                {{ exceptions.raise_compiler_error(message) }}
            {%- else -%}
                {%- do exceptions.warn(message) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif %}

{{ shares_sql }}

{% endtest %}
