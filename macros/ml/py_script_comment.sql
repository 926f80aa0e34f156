{#- py_script_comment(): dbt's hook at the end of every compiled Python model (see _ml__macros.yml); this override
    gives the models `dbt.is_empty` (true under `--empty` only) and shows the library's log lines on dbt's console. -#}
{% macro py_script_comment() %}
# dbt.is_empty: True under `dbt build --empty` (warehouse_ml's py_script_comment macro). dbt ignores --empty
# for Python models (their refs read whole tables), so they return their typed empty result themselves.
dbtObj.is_empty = {{ flags.EMPTY is true }}

# The library's stage lines (rows read, fit time, rows scored) on dbt's console.
import warehouse_ml.dbt_log
warehouse_ml.dbt_log.to_dbt_console()
{% endmacro %}
