{#- Private: critical values of sample_representativeness, computed at compile time so both engines read the same literals (see _sampling__macros.yml). -#}

{#- ln(x) for x > 0, to about 1e-15: x = m 2^e with m in [1, 2), ln m = 2 atanh((m - 1) / (m + 1)) by its series. -#}
{% macro _sampling_ln(x) -%}
    {%- set state = namespace(mantissa=x | float, exponent=0, total=0.0) -%}
    {%- for _ in range(1100) if state.mantissa >= 2 -%}
        {%- set state.mantissa = state.mantissa / 2 -%}
        {%- set state.exponent = state.exponent + 1 -%}
    {%- endfor -%}
    {%- for _ in range(1100) if state.mantissa < 1 -%}
        {%- set state.mantissa = state.mantissa * 2 -%}
        {%- set state.exponent = state.exponent - 1 -%}
    {%- endfor -%}
    {%- set t = (state.mantissa - 1) / (state.mantissa + 1) -%}
    {%- for k in range(40) -%}
        {%- set state.total = state.total + t ** (2 * k + 1) / (2 * k + 1) -%}
    {%- endfor -%}
    {{ return(2 * state.total + state.exponent * 0.6931471805599453) }}
{%- endmacro %}


{#- The standard normal quantile z with P(Z > z) = upper_tail, 0 < upper_tail < 1 (Acklam's rational approximation, relative error below 1.2e-9). -#}
{% macro _sampling_normal_upper_quantile(upper_tail) -%}
    {%- set a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690, -30.66479806614716, 2.506628274631000] -%}
    {%- set b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572] -%}
    {%- set c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783] -%}
    {%- set d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416] -%}
    {%- set p = upper_tail | float -%}
    {%- set tail = [p, 1 - p] | min -%}
    {%- if tail < 0.02425 -%}
        {%- set q = (-2 * warehouse_ml._sampling_ln(tail)) ** 0.5 -%}
        {%- set z = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1) -%}
    {%- else -%}
        {%- set q = tail - 0.5 -%}
        {%- set r = q * q -%}
        {%- set z = -(((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1) -%}
    {%- endif -%}
    {{ return(z if p <= 0.5 else -z) }}
{%- endmacro %}


{#- Per-check critical values for `checks` checks sharing a false-alarm rate `alpha` (Bonferroni: alpha / checks each). -#}
{% macro _sampling_critical_values(alpha, checks, max_degrees_of_freedom) -%}
    {%- set per_check = (alpha | float) / checks -%}
    {%- set z_one_sided = warehouse_ml._sampling_normal_upper_quantile(per_check) -%}
    {%- set z_two_sided = warehouse_ml._sampling_normal_upper_quantile(per_check / 2) -%}
    {#- The chi-square(df) quantile at 1 - per_check: exact for df 1 (z^2) and 2 (-2 ln alpha), else
        Wilson-Hilferty (a few percent above the exact quantile in the far tail: conservative). -#}
    {%- set chi_square = {1: z_two_sided ** 2, 2: -2 * warehouse_ml._sampling_ln(per_check)} -%}
    {%- for df in range(3, max_degrees_of_freedom + 1) -%}
        {%- do chi_square.update({df: df * (1 - 2 / (9 * df) + z_one_sided * (2 / (9 * df)) ** 0.5) ** 3}) -%}
    {%- endfor -%}
    {{ return({
        'per_check_alpha': per_check,
        'rate_z': z_two_sided,
        'ks_c': (-warehouse_ml._sampling_ln(per_check / 2) / 2) ** 0.5,
        'chi_square': chi_square,
    }) }}
{%- endmacro %}
