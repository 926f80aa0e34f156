"""The registry row columns that verification reads, declared once.

Kept apart from :mod:`warehouse_ml.registry` so that the DuckDB plugin can register the SQL
function on every dbt connection without importing scikit-learn and skops; ``registry`` and
``duckdb_plugin`` both import these names, and ``ml_scoring_query`` passes the same columns in the
same order (tests/python/test_registry_integrity.py compares the macro with this tuple).
"""

from __future__ import annotations

INTEGRITY_FIELDS = (
    "model_name",
    "model_version",
    "artifact_format",
    "artifact_sha256",
    "features",
    "label",
    "negative_downsampling_rate",
    "scoring_sql_duckdb",
    "scoring_sql_spark",
    "code_version",
)
"""The columns ``integrity_sha256`` and ``signature`` cover: everything a scorer executes or
reads (the artifact through its sha256, the compiled SQL of both engines, the feature spec)."""

ROW_PROBLEM_COLUMNS = (*INTEGRITY_FIELDS, "integrity_sha256", "signature")
"""The arguments of :func:`warehouse_ml.registry.row_problem` and of the SQL function, in order."""

ROW_PROBLEM_FUNCTION = "warehouse_ml_registry_row_problem"
"""Name of the SQL function that runs :func:`warehouse_ml.registry.row_problem` (DuckDB plugin,
Spark launcher)."""
