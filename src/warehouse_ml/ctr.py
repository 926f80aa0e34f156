"""The CTR use case: predicted vs observed CTR of the scores (the Beta priors are
:mod:`warehouse_ml.ctr_priors`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from warehouse_ml import engine, lifecycle, promotion
from warehouse_ml.specs import ModelSpec

log = logging.getLogger(__name__)


PREDICTION_GRAIN = ("ad_id", "placement", "impression_date")
"""The grain of ``ctr_predictions``: one row per ad x placement x impression day."""

PROBABILITY_COLUMN = "click_probability"

_GRAIN_LIST = ", ".join(PREDICTION_GRAIN)

EXACT_SUM_TYPE = "decimal(38, 18)"
"""The type probabilities are summed in: the SQL macro ``exact_decimal_type`` (macros/utils)."""

PREDICTED_VS_OBSERVED_SQL = f"""
select
    {_GRAIN_LIST},
    count(*) as impressions,
    cast(sum(cast({{label}} as integer)) as bigint) as clicks,
    cast(sum(cast({{label}} as integer)) as double) / count(*) as observed_click_through_rate,
    cast(sum(cast({{probability}} as {EXACT_SUM_TYPE})) as double) / count(*)
        as predicted_click_through_rate,
    min(model_version) as model_version,
    min(scored_at) as scored_at
from {{table}}
group by {_GRAIN_LIST}
"""
"""Aggregates scored impressions to :data:`PREDICTION_GRAIN` (``{label}``: the spec's label);
one SQL text for both engines. The mean probability is an exact decimal sum over the count: a
DOUBLE ``avg`` adds the rows in whatever order the engine's threads see them, and differs in its
last bits from run to run. ``clicks`` is cast to BIGINT: DuckDB sums integers into a HUGEINT, which
BI drivers read badly. ``model_version`` and ``scored_at`` are the same on every row."""


def ctr_predictions(
    session: Any,
    spec: ModelSpec,
    population: Mapping[str, Any],
    registry_table: Any,
    aliases: Any,
    *,
    scored_at: datetime | None = None,
    empty: bool = False,
) -> Any:
    """Predicted vs observed CTR per ad x placement x day of the CTR scoring population.

    Every impression is scored (streamed, recalibrated as registered) with the version of
    ``ml_model_aliases`` (its ``champion``) and aggregated by the engine.

    Returns
    -------
    DuckDB relation or Spark DataFrame
        ad_id, placement, impression_date, impressions, clicks, observed_click_through_rate,
        predicted_click_through_rate, model_version, scored_at.
    """
    scored = lifecycle.score(
        session,
        spec,
        population,
        registry_table,
        None if empty else promotion.champion_version(aliases, spec.model_name),
        keys=(*PREDICTION_GRAIN, spec.label),
        probability_column=PROBABILITY_COLUMN,
        scored_at=scored_at,
        empty=empty,
    )
    sql = PREDICTED_VS_OBSERVED_SQL.format(
        label=spec.label, probability=PROBABILITY_COLUMN, table=engine.TABLE_PLACEHOLDER
    )
    return engine.query(session, scored, sql)
