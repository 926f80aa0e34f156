"""The dbt-duckdb plugin that gives dbt's DuckDB session the raw contract functions.

dbt's Jinja cannot call Python, but it can run SQL: this plugin, listed in the profile
(``plugins: [{module: warehouse_ml.duckdb_plugin}]``), registers the library's contract check
as DuckDB scalar functions on every connection dbt opens, so the ``validate_raw_sources``
hook calls ``warehouse_ml_check_raw_contract('<raw path>', '<contract json>')``. It also
registers ``warehouse_ml_registry_row_problem(...)`` (:func:`warehouse_ml.registry.row_problem`),
which ``ml_scoring_query`` calls to verify a registry row before running its compiled SQL. The
Spark launcher (``warehouse_ml.spark.dbt_session``) registers the same functions as Spark SQL UDFs.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import DOUBLE, VARCHAR

from warehouse_ml import contract
from warehouse_ml.registry_columns import ROW_PROBLEM_COLUMNS, ROW_PROBLEM_FUNCTION


def register_contract_functions(conn: DuckDBPyConnection, base_dir: str | None = None) -> None:
    """Register the contract check functions on ``conn`` (both ``(VARCHAR, VARCHAR) -> VARCHAR``).

    Parameters
    ----------
    conn : duckdb.DuckDBPyConnection
        The connection; its cursors see the functions too.
    base_dir : str, optional
        Folder relative raw paths are read from (default: the working directory at registration).
    """
    base = base_dir or os.getcwd()

    def check(raw_path: str, contract_json: str) -> str:
        return contract.check_raw_contract_json(raw_path, contract_json, base_dir=base)

    def column_types(raw_path: str, contract_json: str) -> str:
        return contract.extra_column_types_json(raw_path, contract_json, base_dir=base)

    for name, function in (
        (contract.CHECK_FUNCTION, check),
        (contract.COLUMN_TYPES_FUNCTION, column_types),
    ):
        conn.create_function(name, function, [VARCHAR, VARCHAR], VARCHAR, side_effects=True)


def register_registry_functions(conn: DuckDBPyConnection) -> None:
    """Register ``warehouse_ml_registry_row_problem`` on ``conn``.

    Twelve arguments, :data:`~warehouse_ml.registry_columns.ROW_PROBLEM_COLUMNS` in order
    (VARCHAR, the downsampling rate DOUBLE); returns null when the row verifies, else why it is
    refused. Nulls are passed through (a churn row has no rate, an unsigned row no signature).
    """

    def row_problem(*values: object) -> str | None:
        from warehouse_ml import registry  # scikit-learn and skops: only when a row is checked

        return registry.row_problem(*values)

    # DuckDB reads the arity from the signature: twelve named arguments, not *values.
    row_problem.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_ONLY) for name in ROW_PROBLEM_COLUMNS]
    )
    parameters = [
        DOUBLE if name == "negative_downsampling_rate" else VARCHAR for name in ROW_PROBLEM_COLUMNS
    ]
    conn.create_function(
        ROW_PROBLEM_FUNCTION,
        row_problem,
        parameters,
        VARCHAR,
        null_handling="special",
        side_effects=True,
    )


class Plugin(BasePlugin):
    """dbt-duckdb plugin: the raw contract and registry functions on every dbt connection."""

    def initialize(self, plugin_config: dict) -> None:
        """Create the database file's folder before dbt-duckdb opens it (data/build/ on a fresh
        clone): profiles.yml passes the profile's ``path`` as ``database_path``."""
        path = plugin_config.get("database_path")
        if path and path != ":memory:" and "://" not in path and not path.startswith("md:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        """Called by dbt-duckdb once per new DuckDB connection."""
        register_contract_functions(conn)
        register_registry_functions(conn)
