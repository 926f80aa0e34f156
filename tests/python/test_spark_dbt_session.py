"""The dbt-spark ``session`` submission launcher (warehouse_ml.spark.dbt_session)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pyarrow.parquet as pq
import pytest

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]
pytest.importorskip("pyspark")
pytest.importorskip("dbt.adapters.spark")

from dbt.adapters.spark.impl import SparkAdapter  # noqa: E402

from warehouse_ml.spark import dbt_session  # noqa: E402

REPO_DIR = Path(__file__).resolve().parents[2]
PROFILES_DIR = REPO_DIR / "profiles"
SEED_ROWS = 1500


def _adapter_with_method(method: str) -> SimpleNamespace:
    return SimpleNamespace(config=SimpleNamespace(credentials=SimpleNamespace(method=method)))


def test_register_adds_session_method_and_default_once():
    dbt_session.register_session_submission()
    dbt_session.register_session_submission()  # idempotent: no double wrapping
    helpers = SparkAdapter.python_submission_helpers.fget(_adapter_with_method("session"))
    assert set(helpers) == {"job_cluster", "all_purpose_cluster", "session"}
    assert helpers["session"] is dbt_session.SessionPythonJobHelper
    default = SparkAdapter.default_python_submission_method.fget
    assert default(_adapter_with_method("session")) == "session"
    assert default(_adapter_with_method("thrift")) == "all_purpose_cluster"


def test_pandas_warning_filter_reaches_spark_workers_once(monkeypatch):
    monkeypatch.setenv("PYTHONWARNINGS", "default::DeprecationWarning")
    dbt_session.quiet_pyspark_pandas_warning()
    dbt_session.quiet_pyspark_pandas_warning()
    assert os.environ["PYTHONWARNINGS"] == (
        "default::DeprecationWarning,ignore:PySpark does not yet fully support pandas:FutureWarning"
    )


def test_helper_runs_compiled_code_with_the_session(tmp_path):
    parameters = {
        "spark.master": "local[1]",
        "spark.ui.enabled": "false",
        "spark.sql.warehouse.dir": str(tmp_path / "warehouse"),
        "spark.log.level": "ERROR",
    }
    credentials = SimpleNamespace(server_side_parameters=parameters)
    helper = dbt_session.SessionPythonJobHelper({"unique_id": "model.toy.m"}, credentials)
    helper.submit(
        "spark.createDataFrame([(1, 2.5), (2, 5.0)], 'id int, x double')"
        ".createOrReplaceTempView('submitted')"
    )
    spark = dbt_session._active_spark_session(parameters)
    assert [tuple(row) for row in spark.table("submitted").orderBy("id").collect()] == [
        (1, 2.5),
        (2, 5.0),
    ]
    with pytest.raises(ZeroDivisionError) as failure:
        helper.submit("1 / 0")
    assert "<dbt python model model.toy.m>" in str(failure.traceback[-1].path)


TOY_PROJECT = {
    "dbt_project.yml": """
        name: toy
        version: "0.1.0"
        config-version: 2
        profile: warehouse_ml
        model-paths: ["models"]
        models:
          toy:
            +materialized: table
            +file_format: parquet
        seeds:
          toy:
            +file_format: parquet
    """,
    "models/toy_numbers.sql": """
        select id, cast(id as double) * 1.5 as amount
        from (select explode(sequence(1, 10)) as id) as ids
    """,
    "models/toy_scored.py": """
        import pandas as pd

        from warehouse_ml import engine


        def triple(batch: pd.DataFrame) -> pd.DataFrame:
            return pd.DataFrame({"id": batch["id"], "score": batch["amount"] * 3.0})


        def model(dbt, session):
            dbt.config(materialized="table")
            assert engine.detect_engine(session) == "spark"
            numbers = dbt.ref("toy_numbers")
            return engine.map_batches(numbers, triple, "id int, score double")
    """,
}


def test_toy_project_builds_sql_and_python_models_on_spark(tmp_path):
    project = tmp_path / "toy"
    for name, text in TOY_PROJECT.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    # A seed big enough that dbt-spark's own loader (type inference per cell) would crawl,
    # loaded with the project's spark__load_csv_rows override.
    (project / "macros").mkdir()
    shutil.copy(REPO_DIR / "macros" / "utils" / "spark_seeds.sql", project / "macros")
    (project / "seeds").mkdir()
    seed_lines = ["seed_id,price,label"] + [f"{i},{i / 4},row {i}" for i in range(SEED_ROWS)]
    (project / "seeds" / "toy_seed.csv").write_text("\n".join(seed_lines) + "\n")
    spark_dir = tmp_path / "spark"
    environment = {
        **os.environ,
        "WAREHOUSE_ML_SPARK_DIR": str(spark_dir),
        "WAREHOUSE_ML_THREADS": "1",
    }
    command = [
        sys.executable, "-m", "warehouse_ml.spark.dbt_session", "build",
        "--project-dir", str(project), "--profiles-dir", str(PROFILES_DIR), "--target", "spark",
        "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=project, env=environment, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "PASS=3" in result.stdout

    scored = pq.read_table(spark_dir / "warehouse" / "warehouse_ml.db" / "toy_scored")
    rows = sorted(zip(scored["id"].to_pylist(), scored["score"].to_pylist(), strict=True))
    assert rows == [(i, i * 4.5) for i in range(1, 11)]

    seed = pq.read_table(spark_dir / "warehouse" / "warehouse_ml.db" / "toy_seed")
    assert seed.num_rows == SEED_ROWS
    assert str(seed.schema.field("price").type) == "double"
    assert sum(seed["price"].to_pylist()) == sum(i / 4 for i in range(SEED_ROWS))
    assert sorted(seed["label"].to_pylist())[:2] == ["row 0", "row 1"]
