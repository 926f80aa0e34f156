"""The churn use case: scores of every customer, ranked into risk deciles.

Training is the generic flow (:func:`warehouse_ml.lifecycle.train_and_register` with the
``churn`` spec); what is churn-specific is the ranking of the scored population.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from warehouse_ml import engine, lifecycle
from warehouse_ml.specs import ModelSpec

PROBABILITY_COLUMN = "churn_probability"

RISK_DECILES_SQL = f"""
select
    customer_id,
    observation_date,
    {PROBABILITY_COLUMN},
    cast(ntile(10) over (order by {PROBABILITY_COLUMN} desc, customer_id) as integer)
        as risk_decile,
    model_version,
    scored_at
from {engine.TABLE_PLACEHOLDER}
"""
"""Ranks the scored population: decile 1 holds the tenth most likely to churn (ties by id).
One SQL text, run by DuckDB and by Spark."""


def churn_scores(
    session: Any,
    spec: ModelSpec,
    population: Mapping[str, Any],
    registry_table: Any,
    versions: Any,
    *,
    scored_at: datetime | None = None,
) -> Any:
    """Every row of the churn scoring population, scored and ranked into ``risk_decile``.

    Parameters
    ----------
    session : duckdb connection or SparkSession
    spec : ModelSpec
        The ``churn`` row of ``ml_model_specs``.
    population : mapping
        ``{"ml_churn_scoring_population": dbt.ref(...)}`` (the spec's scoring population).
    registry_table, versions : table
        ``ml_churn_model`` and ``ml_current_model_versions``.
    scored_at : datetime, optional

    Returns
    -------
    DuckDB relation or Spark DataFrame
        customer_id, observation_date, churn_probability, risk_decile, model_version,
        scored_at; streamed (nothing collected).
    """
    scored = lifecycle.score(
        session,
        spec,
        population,
        registry_table,
        versions,
        probability_column=PROBABILITY_COLUMN,
        scored_at=scored_at,
    )
    return engine.query(session, scored, RISK_DECILES_SQL)
