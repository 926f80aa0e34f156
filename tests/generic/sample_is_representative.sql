{#- Fails for every feature whose sample drifts from its population beyond chance under its design, naming model, feature and figures (see _generic__tests.yml). -#}
{% test sample_is_representative(model, population, features=none, weight_column=none, cluster_column=none, alpha=none, max_psi=none, max_ks=none, max_relative_mean_difference=none, bins=10, population_where=none, feature_set=none) %}
    {%- set checked = [] if features is none else ([features] if features is string else features | list) -%}
    {%- if feature_set is not none -%}
        {%- for feature in warehouse_ml.feature_columns(feature_set).numeric if feature not in checked -%}
            {%- do checked.append(feature) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if checked | length == 0 -%}
        {{ exceptions.raise_compiler_error("sample_is_representative on " ~ model ~ ": give features, feature_set or both") }}
    {%- endif -%}
    {%- set alpha = warehouse_ml.checked_var('sampling_alpha') if alpha is none else alpha -%}
    {%- for argument, value in {'max_psi': max_psi, 'max_ks': max_ks, 'max_relative_mean_difference': max_relative_mean_difference}.items() -%}
        {%- if value is not none and (value is boolean or value is not number or value < 0) -%}
            {{ exceptions.raise_compiler_error("sample_is_representative on " ~ model ~ ": " ~ argument ~ " must be a number >= 0 or none, got " ~ value) }}
        {%- endif -%}
    {%- endfor -%}
    {#- Figures within 1e-12 of their limit pass: a sample equal to its population has thresholds 0 and figures 0 up to rounding. -#}
    {%- set psi_limit = 'cast(' ~ max_psi ~ ' as double)' if max_psi is not none else 'psi_threshold' -%}
    {%- set ks_limit = 'cast(' ~ max_ks ~ ' as double)' if max_ks is not none else 'ks_threshold' -%}
    {%- set failures_sql -%}
        select
            '{{ model.identifier }}' as model_name,
            feature_name,
            population_rows,
            sample_rows,
            effective_sample_rows,
            population_mean,
            sample_mean,
            is_binary,
            rate_interval_lower,
            rate_interval_upper,
            psi,
            {{ psi_limit }} as psi_limit,
            ks_statistic,
            {{ ks_limit }} as ks_limit,
            coalesce(sample_rows, 0) = 0 as is_empty,
            coalesce(is_binary and (sample_mean < rate_interval_lower - 1e-12 or sample_mean > rate_interval_upper + 1e-12), false) as is_rate_outside,
            coalesce(psi > {{ psi_limit }} + 1e-12, false) as is_psi_above,
            coalesce(ks_statistic > {{ ks_limit }} + 1e-12, false) as is_ks_above,
            {%- if max_relative_mean_difference is not none %}
            coalesce(abs(sample_mean - population_mean) > {{ max_relative_mean_difference }} * abs(population_mean), false) as is_mean_off
            {%- else %}
            false as is_mean_off
            {%- endif %}
        from ({{ warehouse_ml.sample_representativeness(model, population, checked, weight_column, bins, population_where, cluster_column, alpha) }}) as checks
    {%- endset -%}
    {%- set failing_sql = 'select * from (' ~ failures_sql ~ ') as failures where population_rows > 0 and (is_empty or is_rate_outside or is_psi_above or is_ks_above or is_mean_off)' -%}

    {%- if execute and flags.WHICH in ['build', 'test', 'retry'] and adapter.get_relation(model.database, model.schema, model.identifier) is not none -%}
        {#- Run the check once; the test returns one literal row per failing feature with its message (dbt prints the
            messages as warnings, and the compiled test holds them). -#}
        {%- set failing = run_query(failing_sql ~ ' order by feature_name') -%}
        {%- set messages = [] -%}
        {%- for row in failing.rows -%}
            {%- set reasons = [] -%}
            {%- if row['is_empty'] -%}
                {%- do reasons.append('the sample is empty') -%}
            {%- endif -%}
            {%- if row['is_rate_outside'] -%}
                {%- do reasons.append('sample rate ' ~ '%.4f' | format(row['sample_mean']) ~ ' (design-weighted) outside the interval ['
                    ~ '%.4f' | format(row['rate_interval_lower']) ~ ', ' ~ '%.4f' | format(row['rate_interval_upper'])
                    ~ '] around the population rate ' ~ '%.4f' | format(row['population_mean'])) -%}
            {%- endif -%}
            {%- if row['is_psi_above'] -%}
                {%- do reasons.append('PSI ' ~ '%.4g' | format(row['psi']) ~ ' > ' ~ '%.4g' | format(row['psi_limit'])) -%}
            {%- endif -%}
            {%- if row['is_ks_above'] -%}
                {%- do reasons.append('KS ' ~ '%.4g' | format(row['ks_statistic']) ~ ' > ' ~ '%.4g' | format(row['ks_limit'])) -%}
            {%- endif -%}
            {%- if row['is_mean_off'] -%}
                {%- do reasons.append('mean ' ~ '%.4g' | format(row['sample_mean']) ~ ' vs population ' ~ '%.4g' | format(row['population_mean'])
                    ~ ', more than ' ~ max_relative_mean_difference ~ ' relative') -%}
            {%- endif -%}
            {%- do messages.append("sample_is_representative: model " ~ model.identifier ~ ", column " ~ row['feature_name'] ~ ": "
                ~ reasons | join('; ') ~ " (" ~ '{:,}'.format(row['sample_rows'] | int) ~ " sample rows, "
                ~ '{:,.0f}'.format((row['effective_sample_rows'] or 0) | float) ~ " effective; "
                ~ '{:,}'.format(row['population_rows'] | int) ~ " population rows; alpha " ~ alpha ~ " for the test).") -%}
        {%- endfor -%}
        {%- set result_sql -%}
            {%- for message in messages %}
            {%- do exceptions.warn(message) %}
            select {{ warehouse_ml.sql_string_literal(message) }} as failure_message
            union all
            {%- endfor %}
            select failure_message from (select cast(null as string) as failure_message) as no_failure where failure_message is not null
        {%- endset -%}
    {%- else -%}
        {%- set result_sql = failing_sql -%}
    {%- endif %}

{{ result_sql }}

{% endtest %}
