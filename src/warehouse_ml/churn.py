"""The churn use case: scores of every customer, ranked into risk deciles.

Training is the generic flow (:func:`warehouse_ml.lifecycle.train_and_register` with the
``churn`` spec); what is churn-specific is the ranking of the scored population.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from warehouse_ml import engine, lifecycle, promotion
from warehouse_ml.errors import ModelSpecError
from warehouse_ml.specs import ModelSpec

PROBABILITY_COLUMN = "churn_probability"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def risk_deciles_sql(key_columns: Sequence[str]) -> str:
    """The SQL ranking the scored population: decile 1 holds the tenth most likely to churn.

    One SQL text, run by DuckDB and by Spark over :data:`engine.TABLE_PLACEHOLDER`. Ties are
    broken by the key columns (the spec's ``key_columns``), in order.

    Raises
    ------
    ModelSpecError
        If there are no key columns or one is not a plain identifier.
    """
    keys = list(key_columns)
    if not keys or not all(_IDENTIFIER.match(key) for key in keys):
        raise ModelSpecError(
            f"churn risk deciles need key columns that are plain identifiers, got {keys!r}; "
            "set key_columns of var('ml_models').churn in dbt_project.yml"
        )
    key_list = "".join(f"    {key},\n" for key in keys)
    return f"""
select
{key_list}    {PROBABILITY_COLUMN},
    cast(ntile(10) over (order by {PROBABILITY_COLUMN} desc, {", ".join(keys)}) as integer)
        as risk_decile,
    model_version,
    scored_at
from {engine.TABLE_PLACEHOLDER}
"""


def churn_scores(
    session: Any,
    spec: ModelSpec,
    population: Mapping[str, Any],
    registry_table: Any,
    aliases: Any,
    *,
    scored_at: datetime | None = None,
    empty: bool = False,
) -> Any:
    """Every row of the churn scoring population, scored and ranked into ``risk_decile``.

    Parameters
    ----------
    session : duckdb connection or SparkSession
    spec : ModelSpec
        The ``churn`` row of ``ml_model_specs``.
    population : mapping
        ``{"ml_churn_scoring_population": dbt.ref(...)}`` (the spec's scoring population).
    registry_table, aliases : table
        ``ml_churn_model`` and ``ml_model_aliases`` (its ``champion`` row is scored with).
    scored_at : datetime, optional
    empty : bool, default False
        ``dbt build --empty`` (the model's ``dbt.is_empty``): the same columns, no rows, and
        no champion needed (:func:`warehouse_ml.lifecycle.score`).

    Returns
    -------
    DuckDB relation or Spark DataFrame
        The spec's key columns (customer_id, observation_date), churn_probability,
        risk_decile, model_version, scored_at; streamed (nothing collected).
    """
    scored = lifecycle.score(
        session,
        spec,
        population,
        registry_table,
        None if empty else promotion.champion_version(aliases, spec.model_name),
        probability_column=PROBABILITY_COLUMN,
        scored_at=scored_at,
        empty=empty,
    )
    return engine.query(session, scored, risk_deciles_sql(spec.key_columns))
