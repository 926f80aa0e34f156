"""warehouse_ml: train on a sample, score everything.

The Python library behind the dbt Python models. Pure functions, no dbt calls,
no hidden I/O; the dbt Python models under ``models/`` are thin wrappers around it.
"""

__version__ = "0.1.0"
