"""The dbt-duckdb plugin that gives dbt's DuckDB session the raw contract functions.

dbt's Jinja cannot call Python, but it can run SQL: this plugin, listed in the profile
(``plugins: [{module: warehouse_ml.duckdb_plugin}]``), registers the library's contract check
as DuckDB scalar functions on every connection dbt opens, so the ``validate_raw_sources``
hook calls ``warehouse_ml_check_raw_contract('<raw path>', '<contract json>')``. The Spark
launcher (``warehouse_ml.spark.dbt_session``) registers the same functions as Spark SQL UDFs.
"""

from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import VARCHAR

from warehouse_ml import contract


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


class Plugin(BasePlugin):
    """dbt-duckdb plugin: the raw contract functions on every dbt connection."""

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        """Called by dbt-duckdb once per new DuckDB connection."""
        register_contract_functions(conn)
