{#- Warns for every drift row whose figure passes its threshold, naming model, feature, comparison, stratum and figure (see _generic__tests.yml). -#}
{% test drift_below_threshold(model, max_js_divergence=none, max_ks=none) %}
    {{ config(severity='warn') }}
    {%- for argument, value in {'max_js_divergence': max_js_divergence, 'max_ks': max_ks}.items() if value is not none -%}
        {%- if value is not number or value < 0 or value > 1 -%}
            {{ exceptions.raise_compiler_error("drift_below_threshold on " ~ model ~ ": " ~ argument ~ " must be a number in [0, 1] or none, got " ~ value) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set figures = [
        ('psi', 'psi', 'psi_threshold'),
        ('js_divergence', 'js_divergence', max_js_divergence),
        ('ks_statistic', 'ks_statistic', max_ks),
    ] -%}
    {%- set checks = [] -%}
    {%- for figure, column, threshold in figures if threshold is not none -%}
        {%- do checks.append({'figure': figure, 'column': column, 'threshold': threshold}) -%}
    {%- endfor -%}
    {%- set drifted_sql -%}
        {%- for check in checks %}
        select
            model_name,
            model_version,
            comparison,
            stratum_column,
            stratum_value,
            feature,
            feature_kind,
            '{{ check.figure }}' as figure,
            {{ check.column }} as figure_value,
            cast({{ check.threshold }} as double) as figure_threshold,
            reference_rows,
            current_rows
        from {{ model }}
        where {{ check.column }} > {{ check.threshold }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    {%- endset -%}
    {%- if execute and adapter.get_relation(model.database, model.schema, model.identifier) is not none -%}
        {#- The returned rows count; the warnings say which model, feature and figure (not while compiling a fresh warehouse). -#}
        {%- set drifted = run_query('select * from (' ~ drifted_sql ~ ') as drifted order by model_name, feature, comparison, stratum_column, stratum_value, figure') -%}
        {%- for row in drifted.rows -%}
            {%- do exceptions.warn(
                "drift: model " ~ row['model_name'] ~ " (version " ~ row['model_version'] ~ "), feature " ~ row['feature']
                ~ " (" ~ row['feature_kind'] ~ "), comparison " ~ row['comparison'] ~ ", stratum " ~ row['stratum_column']
                ~ "=" ~ row['stratum_value'] ~ ": " ~ row['figure'] ~ " " ~ '%.4g' | format(row['figure_value'])
                ~ " > threshold " ~ '%.4g' | format(row['figure_threshold']) ~ " (" ~ row['reference_rows'] ~ " reference rows, "
                ~ row['current_rows'] ~ " current rows)") -%}
        {%- endfor -%}
    {%- endif %}

with

drifted as (
    {{ drifted_sql }}
)

select * from drifted

{% endtest %}
