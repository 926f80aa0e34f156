{#- Warns once per model, feature and comparison whose monitored rows pass a threshold, naming the worst stratum and its figure (see _generic__tests.yml). -#}
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
        where is_monitored and {{ check.column }} > {{ check.threshold }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    {%- endset -%}
    {#- One row per model, feature and comparison: its worst stratum (highest figure / threshold) and how many
        (stratum, figure) rows drift. -#}
    {%- set grouped_sql -%}
        select
            model_name,
            model_version,
            comparison,
            feature,
            feature_kind,
            stratum_column,
            stratum_value,
            figure,
            figure_value,
            figure_threshold,
            reference_rows,
            current_rows,
            drifted_rows
        from (
            select
                drifted.*,
                count(*) over (partition by model_name, feature, comparison) as drifted_rows,
                row_number() over (
                    partition by model_name, feature, comparison
                    order by figure_value / nullif(figure_threshold, 0) desc, stratum_column, stratum_value, figure
                ) as worst_rank
            from ({{ drifted_sql }}) as drifted
        ) as ranked
        where worst_rank = 1
    {%- endset -%}
    {%- if execute and adapter.get_relation(model.database, model.schema, model.identifier) is not none -%}
        {#- The returned rows count; the warnings say which model, feature and figure (not while compiling a fresh warehouse). -#}
        {%- set drifted = run_query('select * from (' ~ grouped_sql ~ ') as grouped order by model_name, feature, comparison') -%}
        {%- for row in drifted.rows -%}
            {%- do exceptions.warn(
                "drift: model " ~ row['model_name'] ~ " (version " ~ row['model_version'] ~ "), feature " ~ row['feature']
                ~ " (" ~ row['feature_kind'] ~ "), comparison " ~ row['comparison'] ~ ": worst stratum " ~ row['stratum_column']
                ~ "=" ~ row['stratum_value'] ~ ": " ~ row['figure'] ~ " " ~ '%.4g' | format(row['figure_value'])
                ~ " > threshold " ~ '%.4g' | format(row['figure_threshold']) ~ " (" ~ row['reference_rows'] ~ " reference rows, "
                ~ row['current_rows'] ~ " current rows); " ~ row['drifted_rows'] ~ " drifted stratum figure(s) in all") -%}
        {%- endfor -%}
    {%- endif %}

with

drifted as (
    {{ grouped_sql }}
)

select * from drifted

{% endtest %}
