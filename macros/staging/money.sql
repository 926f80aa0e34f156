{#- money_type(), to_money(amount), money_check(amount, name): amounts as exact decimals (see _staging__macros.yml). -#}
{% macro money_type() -%}
    {{ return('decimal(18, 2)') }}
{%- endmacro %}

{% macro to_money(amount) -%}
    {{ return('cast(' ~ amount ~ ' as ' ~ warehouse_ml.money_type() ~ ')') }}
{%- endmacro %}

{#- Never raises: a value out of range or not in cents fails the check before any cast. -#}
{% macro money_check(amount, name='amount') -%}
    {{ return([name ~ '_not_in_cents',
        'not (abs(' ~ amount ~ ') < 1e16 and round(' ~ amount ~ ', 2) = ' ~ amount ~ ')']) }}
{%- endmacro %}
