"""Apache Spark support: run this dbt project on local Spark or a cluster.

``warehouse_ml.spark.dbt_session`` is the launcher that lets dbt-spark run Python models in the
dbt process itself (``submission_method: session``); see docs/scaling_out.md. Nothing here
imports pyspark at module import time, so the DuckDB-only install never needs it.
"""
