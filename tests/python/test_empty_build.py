"""`dbt build --empty` (the schema-only check): it passes, and only it lets the Python models
return empty results; a normal build on an empty training set still fails with its message.

The library half runs on in-memory DuckDB tables: each Python model's call with ``empty=True``
returns exactly the columns and types of the real result, without rows. The dbt half is one
``--empty`` build of the whole project (module-scoped), then one normal run of the churn
registry on the warehouse it left (whose training set is empty).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest
from _dbt import output_of, run_dbt
from _ml_synthetic import churn_frame, impression_frame
from _ml_synthetic import spec_row as synthetic_spec_row

from warehouse_ml import churn, ctr, ctr_priors, lifecycle, registry, specs
from warehouse_ml.errors import EmptyTrainingSetError

PYTHON_MODELS = {
    "intermediate": ["ctr_placement_priors"],
    "ml": [
        "ml_churn_model",
        "ml_ctr_model",
        "ml_model_decisions",
        "ml_model_metrics",
        "churn_scores",
        "ctr_predictions",
    ],
}

CHURN = specs.from_row(synthetic_spec_row("churn", random_state=0, spec_fingerprint="churn-spec-0"))
CTR = specs.from_row(synthetic_spec_row("ctr", random_state=0, spec_fingerprint="ctr-spec-0"))
WHEN = dt.datetime(2026, 1, 1)


@pytest.fixture(scope="module")
def connection():
    con = duckdb.connect()
    yield con
    con.close()


def table(connection: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame):
    """``frame`` as a DuckDB table ``name``, returned as a relation (what dbt.ref gives)."""
    connection.register(f"{name}_frame", frame)
    connection.execute(f"create or replace table {name} as select * from {name}_frame")
    return connection.sql(f"select * from {name}")


def aliases(model_name: str, version: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model_name": [model_name],
            "alias": ["champion"],
            "model_version": [version],
            "resolved_by": ["first_version"],
        }
    )


def columns_and_types(relation) -> list[tuple[str, str]]:
    return list(zip(relation.columns, map(str, relation.types), strict=True))


def test_churn_registry_and_scores_under_empty_have_the_real_columns(connection):
    sample = table(connection, "trn_churn__cluster_sample", churn_frame(dates=3))
    out_of_time = table(
        connection,
        "ml_churn_evaluation_out_of_time",
        churn_frame(dates=1, seed=9).drop(columns=["split", "sample_weight"]),
    )
    relations = {
        "trn_churn__cluster_sample": sample,
        "ml_churn_evaluation_out_of_time": out_of_time,
    }
    trained = lifecycle.train_and_register(CHURN, relations, trained_at=WHEN)
    untrained = lifecycle.train_and_register(CHURN, relations, empty=True)
    assert trained.num_rows == 1 and untrained.num_rows == 0
    assert untrained.schema == trained.schema == registry.REGISTRY_SCHEMA

    population = {
        "ml_churn_scoring_population": table(
            connection,
            "ml_churn_scoring_population",
            churn_frame(seed=5).drop(columns=["is_churned", "split", "sample_weight"]),
        )
    }
    version = trained["model_version"][0].as_py()
    champion = aliases("churn", version)
    real = churn.churn_scores(connection, CHURN, population, trained, champion, scored_at=WHEN)
    # No registry, no champion: under --empty neither is read.
    empty = churn.churn_scores(
        connection, CHURN, population, untrained, champion.head(0), empty=True
    )
    assert len(real) == 1600 and len(empty) == 0
    assert columns_and_types(empty) == columns_and_types(real)


def test_ctr_priors_and_predictions_under_empty_have_the_real_columns(connection):
    population = impression_frame(n=5_000)
    last_day = population["impression_date"] == population["impression_date"].max()
    relations = {
        "trn_ctr__recent_sample": table(connection, "trn_ctr__recent_sample", population),
        "ml_ctr_evaluation_day": table(connection, "ml_ctr_evaluation_day", population[last_day]),
    }
    trained = lifecycle.train_and_register(CTR, relations)
    scoring = {
        "ml_ctr_scoring_population": table(
            connection, "ml_ctr_scoring_population", population[last_day]
        )
    }
    champion = aliases("ctr", trained["model_version"][0].as_py())
    real = ctr.ctr_predictions(connection, CTR, scoring, trained, champion, scored_at=WHEN)
    empty = ctr.ctr_predictions(
        connection, CTR, scoring, registry.registry_table([]), champion.head(0), empty=True
    )
    assert len(real) > 0 and len(empty) == 0
    assert columns_and_types(empty) == columns_and_types(real)

    totals = pd.DataFrame(
        {
            "placement": ["feed"] * 4,
            "ad_id": [1, 2, 3, 4],
            "clicks": [1, 5, 10, 3],
            "impressions": [100] * 4,
        }
    )
    fitted = ctr_priors.fit_placement_priors(totals)
    none = ctr_priors.fit_placement_priors(totals.head(0), empty=True)
    assert len(fitted) == 1 and len(none) == 0
    assert none.dtypes.to_dict() == fitted.dtypes.to_dict()


def test_without_empty_an_empty_input_still_fails_with_its_message(connection):
    empty_sample = table(
        connection, "empty_sample", churn_frame(customers=20, dates=1).assign(split="holdout")
    )
    out_of_time = connection.sql("select * from ml_churn_evaluation_out_of_time")
    with pytest.raises(EmptyTrainingSetError, match="'trn_churn__cluster_sample \\(split"):
        lifecycle.train_and_register(
            CHURN,
            {
                "trn_churn__cluster_sample": empty_sample,
                "ml_churn_evaluation_out_of_time": out_of_time,
            },
        )
    no_rows = pd.DataFrame({"placement": [], "clicks": [], "impressions": []})
    with pytest.raises(ValueError, match="got no rows"):
        ctr_priors.fit_placement_priors(no_rows)


@pytest.fixture(scope="module")
def empty_build(tmp_path_factory: pytest.TempPathFactory, small_raw_dir):
    """The whole project built with --empty on the small raw data (its on-run-start hooks
    check the raw files, so raw data is needed; no row of it is read into a model)."""
    work = tmp_path_factory.mktemp("empty_build")
    result = run_dbt("build", work, {"raw_data_path": str(small_raw_dir)}, args=["--empty"])
    return work, small_raw_dir, result


def test_dbt_build_empty_passes_with_every_python_model_built_empty(empty_build):
    work, _, result = empty_build
    output = output_of(result)
    assert result.returncode == 0, output[-4000:]
    assert " ERROR=0 SKIP=0 " in output, output[-2000:]
    assert "churn: --empty, no version trained" in output  # the library's line on dbt's console
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:
        for schema, models in PYTHON_MODELS.items():
            for name in models:
                relation = con.sql(f"select * from {schema}.{name}")
                assert relation.columns, name
                assert "NULL" not in map(str, relation.types), (name, relation.types)
                assert len(relation) == 0, name


def test_a_normal_run_on_the_empty_training_set_fails_with_its_message(empty_build):
    work, raw, _ = empty_build
    result = run_dbt("run", work, {"raw_data_path": str(raw)}, args=["--select", "ml_churn_model"])
    output = output_of(result)
    assert result.returncode == 1, output[-2000:]
    assert "EmptyTrainingSetError" in output
    assert "training set 'trn_churn__cluster_sample (split = 'train')' has no rows" in output
