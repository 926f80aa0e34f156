"""The SQL model ``ctr_placement_priors`` fits the priors of the library's
:func:`warehouse_ml.ctr.fit_placement_priors` (the same method of moments, in SQL so that the CTR
chain runs no Python): on the shared default build, the model's rows equal the library's fit of the
model's own input, ``int_ad_placements_aggregated``, to rounding (the SQL sums exactly, numpy
pairwise)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from warehouse_ml import ctr

DEFAULT_MIN_IMPRESSIONS = 100
"""dbt_project.yml's ctr_prior_min_impressions, the var the default build ran with."""


@pytest.fixture(scope="module")
def priors(default_build: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the model's rows, the library's fit of the model's input), both sorted by placement."""
    with duckdb.connect(str(default_build["db"]), read_only=True) as connection:
        model = connection.sql(
            "select * from intermediate.ctr_placement_priors order by placement"
        ).df()
        totals = connection.sql("select * from intermediate.int_ad_placements_aggregated").df()
    library = ctr.fit_placement_priors(totals, min_impressions=DEFAULT_MIN_IMPRESSIONS)
    return model.reset_index(drop=True), library.reset_index(drop=True)


def test_the_sql_priors_have_the_library_columns_and_placements(priors) -> None:
    model, library = priors
    assert list(model.columns) == ctr.PRIOR_COLUMNS
    assert model["placement"].tolist() == library["placement"].tolist()
    assert len(model) == 5  # the five default placements, each with its own prior


def test_the_sql_priors_equal_the_library_fit(priors) -> None:
    model, library = priors
    assert model["ads_used"].tolist() == library["ads_used"].tolist()
    assert model["is_fallback_prior"].tolist() == library["is_fallback_prior"].tolist()
    for column in ("prior_alpha", "prior_beta", "prior_mean"):
        np.testing.assert_allclose(model[column], library[column], rtol=1e-12, err_msg=column)
    assert (model["prior_alpha"] > 0).all() and (model["prior_beta"] > 0).all()
