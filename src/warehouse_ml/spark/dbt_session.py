"""Run dbt with an in-process ``session`` submission method for dbt-spark Python models.

dbt-spark 1.11 submits Python models only to Databricks (``all_purpose_cluster``,
``job_cluster``). With the ``session`` connection method dbt already runs SQL inside a local
SparkSession; this launcher adds the missing Python half: it registers a ``session``
submission method that executes the compiled model code with that same SparkSession, makes
it the default for ``method: session`` profiles, and then hands over to dbt's normal CLI::

    python -m warehouse_ml.spark.dbt_session build --profiles-dir profiles --target spark

Every argument after the module name is passed to ``dbt`` unchanged. Upstream has an open
pull request for the same feature (dbt-labs/dbt-spark#1063, issue #1062); when a dbt-spark
release ships it, delete this module and call ``dbt`` directly.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Sequence
from typing import Any

SUBMISSION_METHOD = "session"
"""Name of the submission method, the same as in the upstream pull request."""

_PATCH_MARKER = "_warehouse_ml_session_submission"


def _active_spark_session(server_side_parameters: dict[str, str]) -> Any:
    """Return the SparkSession dbt-spark's ``session`` connection uses (created if needed).

    Built exactly like ``dbt.adapters.spark.session.Cursor`` builds it, so a Python model
    run before any SQL still gets the profile's configuration.
    """
    from pyspark.sql import SparkSession

    _create_event_log_dir(server_side_parameters)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in server_side_parameters.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _create_event_log_dir(server_side_parameters: dict[str, str]) -> None:
    """Create a local ``spark.eventLog.dir`` (Spark refuses to start when it is missing)."""
    if str(server_side_parameters.get("spark.eventLog.enabled", "false")).lower() != "true":
        return
    folder = str(server_side_parameters.get("spark.eventLog.dir", ""))
    if folder and ("://" not in folder or folder.startswith("file://")):
        os.makedirs(folder.removeprefix("file://"), exist_ok=True)


NODE_ID_PATTERN = re.compile(r'"node_id":\s*"([^"]+)"')
"""The node id in dbt's default query comment (``/* {"app": "dbt", ..., "node_id": "..."} */``)."""


def tag_spark_jobs(spark: Any, node_id: str | None) -> None:
    """Put the Spark jobs this thread starts next in the job group ``node_id``.

    pyspark pins each Python thread to a JVM thread, so with several dbt threads every node's
    jobs carry its own id: the Spark UI and the event log group the jobs (and their tasks) by dbt
    node (``warehouse_ml.spark.cluster`` counts them).
    """
    if node_id:
        spark.sparkContext.setJobGroup(node_id, node_id)


class SessionPythonJobHelper:
    """Execute a compiled dbt Python model in this process with the active SparkSession.

    Implements dbt's ``PythonJobHelper`` interface: constructed with the parsed model and the
    profile credentials, then ``submit(compiled_code)``. The compiled code is the model
    followed by dbt-spark's ``py_write_table`` epilogue, which reads ``spark`` from the
    globals, calls ``model(dbt, spark)`` and writes the result with ``saveAsTable``.

    Parameters
    ----------
    parsed_model : dict
        The model node as dbt passes it (``alias``, ``schema``, ``config``, ...).
    credentials : SparkCredentials
        The target's credentials; ``server_side_parameters`` configure the session.
    """

    def __init__(self, parsed_model: dict[str, Any], credentials: Any) -> None:
        self.parsed_model = parsed_model
        self.credentials = credentials

    def submit(self, compiled_code: str) -> None:
        """Run ``compiled_code``; exceptions propagate and fail the model."""
        spark = _active_spark_session(dict(self.credentials.server_side_parameters))
        tag_spark_jobs(spark, self.parsed_model.get("unique_id"))
        filename = f"<dbt python model {self.parsed_model.get('unique_id', '?')}>"
        namespace: dict[str, Any] = {"__name__": "__dbt_python_model__", "spark": spark}
        exec(compile(compiled_code, filename, "exec"), namespace)  # noqa: S102 - dbt's own compiled model


def register_session_submission() -> None:
    """Teach ``SparkAdapter`` the ``session`` submission method (idempotent).

    After this, ``python_submission_helpers`` contains ``"session"``, and the default
    submission method is ``"session"`` when the profile uses ``method: session`` (the
    Databricks default, ``all_purpose_cluster``, stays for every other method). A model may
    still choose explicitly with ``dbt.config(submission_method=...)``.
    """
    from dbt.adapters.spark.impl import SparkAdapter

    if getattr(SparkAdapter, _PATCH_MARKER, False):
        return
    upstream_helpers = SparkAdapter.python_submission_helpers.fget
    upstream_default = SparkAdapter.default_python_submission_method.fget

    def python_submission_helpers(self: Any) -> dict[str, Any]:
        return {**upstream_helpers(self), SUBMISSION_METHOD: SessionPythonJobHelper}

    def default_python_submission_method(self: Any) -> str:
        if str(self.config.credentials.method) == SUBMISSION_METHOD:
            return SUBMISSION_METHOD
        return upstream_default(self)

    SparkAdapter.python_submission_helpers = property(python_submission_helpers)
    SparkAdapter.default_python_submission_method = property(default_python_submission_method)
    setattr(SparkAdapter, _PATCH_MARKER, True)


_FUNCTIONS_MARKER = "_warehouse_ml_contract_functions"


def register_contract_functions(spark: Any, base_dir: str | None = None) -> None:
    """Register the raw contract check as Spark SQL UDFs on ``spark`` (idempotent).

    The same names and signatures as the DuckDB plugin (``warehouse_ml.duckdb_plugin``):
    ``warehouse_ml_check_raw_contract(raw_path, contract_json)`` returns the error message ('' when
    the raw data fits) and ``warehouse_ml_raw_column_types(raw_path, contract_json)`` the Spark
    types of the extra columns, so the hooks' SQL is the same on both engines. The UDFs run in a
    Python worker, so a relative raw path is read from ``base_dir`` (default: this process's
    working directory), not the worker's.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        The session dbt-spark runs SQL in.
    base_dir : str, optional
        Folder relative raw paths are read from.
    """
    if getattr(spark, _FUNCTIONS_MARKER, False):
        return
    from functools import partial

    from warehouse_ml import contract

    base = base_dir or os.getcwd()
    spark.udf.register(
        contract.CHECK_FUNCTION,
        partial(contract.check_raw_contract_json, base_dir=base),
        "string",
    )
    spark.udf.register(
        contract.COLUMN_TYPES_FUNCTION,
        partial(contract.extra_column_types_json, base_dir=base),
        "string",
    )
    setattr(spark, _FUNCTIONS_MARKER, True)


_REGISTRY_FUNCTIONS_MARKER = "_warehouse_ml_registry_functions"


def register_registry_functions(spark: Any) -> None:
    """Register ``warehouse_ml_registry_row_problem`` as a Spark SQL UDF (idempotent).

    The same name and arguments as the DuckDB plugin's (:func:`warehouse_ml.registry.row_problem`):
    ``ml_scoring_query`` calls it to verify a registry row before running its compiled SQL. The
    UDF runs in a Python worker, which inherits this process's environment (and so
    ``WAREHOUSE_ML_REGISTRY_KEY``).
    """
    if getattr(spark, _REGISTRY_FUNCTIONS_MARKER, False):
        return
    from warehouse_ml import registry, registry_columns

    spark.udf.register(registry_columns.ROW_PROBLEM_FUNCTION, registry.row_problem, "string")
    setattr(spark, _REGISTRY_FUNCTIONS_MARKER, True)


def register_session_functions() -> None:
    """Make every SQL statement of dbt-spark's ``session`` cursor see the contract and registry
    functions.

    dbt-spark creates (or reuses) its SparkSession inside ``Cursor.execute``; the wrapper gets
    the same session first and registers the functions on it once (idempotent), and puts the
    statement's Spark jobs in the job group of the dbt node it belongs to (:func:`tag_spark_jobs`).
    """
    from dbt.adapters.spark import session as spark_session

    if getattr(spark_session.Cursor, _FUNCTIONS_MARKER, False):
        return
    upstream_execute = spark_session.Cursor.execute

    def execute(self: Any, sql: str, *parameters: Any) -> None:
        spark = _active_spark_session(dict(self.server_side_parameters))
        register_contract_functions(spark)
        register_registry_functions(spark)
        node = NODE_ID_PATTERN.search(sql[:2000])
        tag_spark_jobs(spark, node.group(1) if node else None)
        upstream_execute(self, sql, *parameters)

    spark_session.Cursor.execute = execute
    setattr(spark_session.Cursor, _FUNCTIONS_MARKER, True)


PANDAS_WARNING = "PySpark does not yet fully support pandas"


def quiet_pyspark_pandas_warning() -> None:
    """Hide pyspark 4's FutureWarning about pandas 3 (it works; the warning repeats per call).

    Here with a warnings filter, and in Spark's Python workers (``mapInPandas``), which inherit
    the environment, through ``PYTHONWARNINGS``.
    """
    warnings.filterwarnings("ignore", message=PANDAS_WARNING, category=FutureWarning)
    worker_filter = f"ignore:{PANDAS_WARNING}:FutureWarning"
    existing = os.environ.get("PYTHONWARNINGS")
    if existing is None:
        os.environ["PYTHONWARNINGS"] = worker_filter
    elif worker_filter not in existing:
        os.environ["PYTHONWARNINGS"] = f"{existing},{worker_filter}"


def main(argv: Sequence[str] | None = None) -> None:
    """Register the session method, then run dbt's CLI with ``argv`` (default: sys.argv[1:]).

    Spark's Python workers (``mapInPandas``, pandas UDFs) run this interpreter unless
    ``PYSPARK_PYTHON`` says otherwise, so they see the same venv and ``warehouse_ml``.
    Exits like the ``dbt`` command does (0 success, 1 model/test failure, 2 error).
    """
    from dbt.cli.main import cli

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    register_session_submission()
    register_session_functions()
    quiet_pyspark_pandas_warning()
    args = list(sys.argv[1:] if argv is None else argv)
    cli.main(args=args, prog_name="dbt")


if __name__ == "__main__":
    main()
