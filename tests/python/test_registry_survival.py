"""A registry that survives: --full-refresh, interrupted builds, no __dbt_tmp copies, export/import,
and the SQL scoring path refusing a row that does not verify (issue 10, items 2 and 3).

One throw-away DuckDB is built on the small generated data set (a copy of the session's whole
default build, ``conftest.default_build``, which holds the CTR scorers and the churn registry),
then again up to those with another CTR training set (a second CTR version, appended by an
incremental run), then with ``--full-refresh``. The other tests work on that database or on
copies of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import _dbt as dbt
import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from warehouse_ml import registry, registry_archive
from warehouse_ml.cli import main as cli
from warehouse_ml.errors import RegistryIntegrityError

SELECT = ["+ctr_impression_scores", "+ctr_predictions", "+ml_churn_model"]
SECOND_CTR_VERSION = {"ctr_training_negative_rate": 0.2}
REGISTRIES = ("ml_churn_model", "ml_ctr_model")


def build(work_dir: Path, raw_dir: Path, dbt_vars=None, *, args=(), select=SELECT, command="build"):
    return dbt.run_dbt(
        command,
        work_dir,
        {"raw_data_path": str(raw_dir), **(dbt_vars or {})},
        args=[
            "--exclude",
            "test_type:unit",
            "--indirect-selection",
            "cautious",
            "--select",
            *select,
            *args,
        ],
    )


def passed(done: subprocess.CompletedProcess[str]) -> str:
    output = dbt.output_of(done)
    assert done.returncode == 0 and "ERROR=0" in output, output[-6000:]
    return output


def scratch_relations(db: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_name like '%\\_\\_dbt\\_tmp%' escape '\\'"
        ).fetchall()


def registered(db: Path) -> dict[str, list[tuple]]:
    """(model_name, model_version, trained_at, integrity_sha256) of every row, per registry."""
    with duckdb.connect(str(db), read_only=True) as connection:
        return {
            table: connection.execute(
                "select model_name, model_version, trained_at, integrity_sha256 "
                f"from ml.{table} order by model_version"
            ).fetchall()
            for table in REGISTRIES
        }


def verify_every_row(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as connection:
        rows = [
            row
            for table in REGISTRIES
            for row in connection.sql(f"select * from ml.{table}").to_arrow_table().to_pylist()
        ]
    for row in rows:
        registry.verify_row(row)
    return len(rows)


@pytest.fixture(scope="module")
def warehouse(
    small_raw_dir: Path, default_build: dict, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    work_dir = tmp_path_factory.mktemp("registry_survival")
    # The first build: the session's default build (every model of SELECT and more), copied.
    db = dbt.copy_database(default_build, work_dir)
    state: dict = {"work_dir": work_dir, "db": db, "raw": small_raw_dir}
    state["first"] = registered(db)
    state["scratch_after_first"] = scratch_relations(db)
    passed(build(work_dir, small_raw_dir, SECOND_CTR_VERSION))
    state["second"] = registered(db)
    state["scratch_after_incremental"] = scratch_relations(db)
    state["full_refresh_output"] = passed(build(work_dir, small_raw_dir, args=["--full-refresh"]))
    state["after_full_refresh"] = registered(db)
    state["scratch_after_full_refresh"] = scratch_relations(db)
    return state


def test_no_dbt_tmp_relation_is_left_behind(warehouse):
    assert warehouse["scratch_after_first"] == []
    assert warehouse["scratch_after_incremental"] == []
    assert warehouse["scratch_after_full_refresh"] == []


def kept(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> bool:
    """Every row of ``before`` is in ``after``, unchanged (same trained_at and integrity)."""
    return all(set(before[table]) <= set(after[table]) for table in REGISTRIES)


def test_full_refresh_keeps_every_registered_version(warehouse):
    first, second, after = warehouse["first"], warehouse["second"], warehouse["after_full_refresh"]
    assert len(first["ml_ctr_model"]) == 1 and len(first["ml_churn_model"]) == 1
    assert len(second["ml_ctr_model"]) == 2  # the incremental run appended a second CTR version
    assert kept(first, second)
    assert kept(second, after)  # nothing dropped, nothing rewritten
    assert verify_every_row(warehouse["db"]) == sum(len(rows) for rows in after.values())


def test_registry_models_are_configured_to_survive_full_refresh():
    project = dbt.PROJECT_DIR
    for domain in ("churn", "ctr"):
        source = (project / "models" / "ml" / domain / f"ml_{domain}_model.py").read_text()
        assert "full_refresh=False" in source


def test_the_unique_version_test_guards_the_registries():
    text = (dbt.PROJECT_DIR / "models" / "ml" / "_ml__models.yml").read_text()
    assert "combination_of_columns: [model_name, model_version]" in text
    assert "data_tests: *registry_tests" in text


# --- the SQL scoring path verifies the row before running its SQL ----------------------------


@pytest.fixture
def scoring_copy(warehouse, tmp_path):
    """A copy of the built warehouse to tamper with; returns (work_dir, db, current CTR version)."""
    shutil.copy(warehouse["db"], tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as connection:
        (version,) = connection.execute(
            "select model_version from ml.ml_model_aliases"
            " where model_name = 'ctr' and alias = 'champion'"
        ).fetchone()
    return tmp_path, tmp_path / "warehouse.duckdb", version


def score(work_dir: Path, raw_dir: Path) -> subprocess.CompletedProcess[str]:
    return build(
        work_dir, raw_dir, select=["ctr_impression_scores", "ctr_predictions"], command="run"
    )


def scores_of(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(
            "select count(*), sum(click_probability), min(model_version) "
            "from ml.ctr_impression_scores"
        ).fetchall()


def assert_refused(done, version: str, reason: str) -> None:
    output = dbt.output_of(done)
    assert done.returncode != 0, output[-4000:]
    # The SQL scorer (ml_scoring_query) and the Python scorer (registry.load_model) both refuse.
    assert f"refusing to score with model 'ctr' version '{version}'" in output, output[-4000:]
    assert f"model 'ctr' version '{version}': {reason}" in output, output[-4000:]
    assert "ERROR=2" in output, output[-4000:]


def test_an_edited_compiled_sql_is_refused_by_both_scoring_paths(warehouse, scoring_copy):
    work_dir, db, version = scoring_copy
    before = scores_of(db)
    with duckdb.connect(str(db)) as connection:
        connection.execute(
            "update ml.ml_ctr_model set scoring_sql_duckdb = "
            "'select impression_id, 0.5 as probability from __population__' "
            "where model_version = ?",
            [version],
        )
    assert_refused(score(work_dir, warehouse["raw"]), version, "integrity_sha256 does not match")
    assert scores_of(db) == before  # nothing ran


def test_with_the_key_set_unsigned_and_forged_rows_are_refused(
    warehouse, scoring_copy, monkeypatch
):
    work_dir, db, version = scoring_copy
    monkeypatch.setenv(registry.REGISTRY_KEY_ENV, "scoring-key")
    assert_refused(score(work_dir, warehouse["raw"]), version, "the row has no signature")
    with duckdb.connect(str(db)) as connection:
        connection.execute(
            "update ml.ml_ctr_model set signature = repeat('ab', 32) where model_version = ?",
            [version],
        )
    assert_refused(score(work_dir, warehouse["raw"]), version, "the signature does not verify")


def test_rows_and_registries_from_before_integrity_say_retrain_or_reimport(warehouse, scoring_copy):
    """Upgrading: an old row (null integrity_sha256) or an old table (no column) is refused."""
    work_dir, db, version = scoring_copy
    with duckdb.connect(str(db)) as connection:
        connection.execute("update ml.ml_ctr_model set integrity_sha256 = null")
    done = score(work_dir, warehouse["raw"])
    assert_refused(done, version, "the row has no integrity_sha256")
    assert "retrain or re-import" in dbt.output_of(done)
    with duckdb.connect(str(db)) as connection:
        connection.execute("alter table ml.ml_ctr_model drop column integrity_sha256")
    done = build(work_dir, warehouse["raw"], select=["ctr_impression_scores"], command="run")
    output = dbt.output_of(done)
    assert done.returncode != 0
    assert "has no integrity_sha256 column" in output and "retrain or re-import" in output


# --- an interrupted build appends nothing half-registered, nothing twice ---------------------


def interrupt_registry_build(work_dir: Path, raw_dir: Path, delay: float) -> int:
    """``dbt run --select ml_ctr_model``, SIGINT ``delay`` seconds after the model starts."""
    env = {
        **os.environ,
        "WAREHOUSE_ML_DUCKDB_PATH": str(work_dir / "warehouse.duckdb"),
        "WAREHOUSE_ML_THREADS": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    command = [
        str(dbt.DBT),
        "run",
        "--profiles-dir",
        str(dbt.PROJECT_DIR / "profiles"),
        "--project-dir",
        str(dbt.PROJECT_DIR),
        "--target-path",
        str(work_dir / "target_interrupted"),
        "--log-path",
        str(work_dir / "logs"),
        "--vars",
        dbt.vars_text({"raw_data_path": str(raw_dir)}),
        "--select",
        "ml_ctr_model",
    ]
    process = subprocess.Popen(
        command, cwd=dbt.PROJECT_DIR, env=env, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    for line in process.stdout:
        if "START python incremental model ml.ml_ctr_model" in line:
            time.sleep(delay)
            process.send_signal(signal.SIGINT)
            break
    process.communicate(timeout=300)
    return process.returncode


@pytest.mark.parametrize("delay", [0.3, 1.0])
def test_an_interrupted_registry_build_appends_each_version_once(warehouse, tmp_path, delay):
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse["db"], db)
    expected = registered(db)
    # The default spec's CTR version (the first build's) must be trained again.
    (version,) = {row[1] for row in warehouse["first"]["ml_ctr_model"]}
    with duckdb.connect(str(db)) as connection:
        connection.execute("delete from ml.ml_ctr_model where model_version = ?", [version])
        # What a killed run (SIGKILL after the Python model wrote its rows) leaves behind: the
        # scratch table, committed; the append, not.
        connection.execute(
            "create table main.ml_ctr_model__dbt_tmp20200101000000000000 as "
            "select * from ml.ml_ctr_model"
        )
    interrupt_registry_build(tmp_path, warehouse["raw"], delay)
    interrupted = registered(db)["ml_ctr_model"]
    assert [row[1] for row in interrupted].count(version) <= 1
    verify_every_row(db)  # whatever was appended is whole

    passed(build(tmp_path, warehouse["raw"], select=["ml_ctr_model"]))  # with its unique test
    rebuilt = registered(db)
    versions = [row[1] for row in rebuilt["ml_ctr_model"]]
    assert versions.count(version) == 1 and len(set(versions)) == len(versions)
    others = {row for row in expected["ml_ctr_model"] if row[1] != version}
    assert others <= set(rebuilt["ml_ctr_model"])
    assert verify_every_row(db) == sum(len(rows) for rows in rebuilt.values())
    assert scratch_relations(db) == []


# --- export and import -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def export_dir(warehouse, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("registry_export") / "export"
    result = CliRunner().invoke(
        cli, ["registry", "export", "--db", str(warehouse["db"]), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def test_export_writes_each_registry_with_a_manifest(warehouse, export_dir):
    manifest = json.loads((export_dir / "manifest.json").read_text())
    assert manifest["schema"] == "ml"
    assert sorted(manifest["tables"]) == list(REGISTRIES)  # found from ml_model_specs
    for table, entry in manifest["tables"].items():
        path = export_dir / entry["file"]
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["rows"] == len(warehouse["after_full_refresh"][table])
        assert pq.read_schema(path).equals(registry.REGISTRY_SCHEMA, check_metadata=False)


def test_import_restores_every_version_into_a_new_warehouse_once(warehouse, export_dir, tmp_path):
    db = tmp_path / "restored.duckdb"
    runner = CliRunner()
    result = runner.invoke(cli, ["registry", "import", "--db", str(db), "--from", str(export_dir)])
    assert result.exit_code == 0, result.output
    exported = warehouse["after_full_refresh"]
    for table in REGISTRIES:
        assert f"{table} +{len(exported[table])}" in result.output
    assert registered(db) == exported
    assert verify_every_row(db) == sum(len(rows) for rows in exported.values())
    again = runner.invoke(cli, ["registry", "import", "--db", str(db), "--from", str(export_dir)])
    assert again.exit_code == 0 and "ml_ctr_model +0" in again.output
    assert registered(db) == warehouse["after_full_refresh"]
    assert registry_archive.import_registry(warehouse["db"], export_dir) == {
        "ml_churn_model": 0,
        "ml_ctr_model": 0,
    }


def tampered_copy(export_dir: Path, tmp_path: Path, *, fix_manifest: bool) -> tuple[Path, str]:
    copy = tmp_path / "tampered"
    shutil.copytree(export_dir, copy)
    path = copy / "ml_ctr_model.parquet"
    rows = pq.read_table(path).to_pylist()
    rows[0]["scoring_sql_duckdb"] = "select impression_id, 0.5 as probability from __population__"
    pq.write_table(registry.registry_table(rows), path)
    if fix_manifest:
        manifest = json.loads((copy / "manifest.json").read_text())
        manifest["tables"]["ml_ctr_model"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy, rows[0]["model_version"]


def test_import_refuses_tampered_rows_by_name_and_writes_nothing(export_dir, tmp_path):
    copy, version = tampered_copy(export_dir, tmp_path, fix_manifest=True)
    db = tmp_path / "restored.duckdb"
    result = CliRunner().invoke(cli, ["registry", "import", "--db", str(db), "--from", str(copy)])
    assert result.exit_code != 0
    assert f"model 'ctr' version '{version}': integrity_sha256 does not match" in result.output
    if db.exists():
        with duckdb.connect(str(db), read_only=True) as connection:
            assert (
                connection.execute("select count(*) from information_schema.tables").fetchone()[0]
                == 0
            )


def test_import_refuses_a_file_changed_after_the_export(export_dir, tmp_path):
    copy, _ = tampered_copy(export_dir, tmp_path, fix_manifest=False)
    with pytest.raises(RegistryIntegrityError, match="ml_ctr_model.parquet: sha256"):
        registry_archive.import_registry(tmp_path / "restored.duckdb", copy)


def test_a_first_build_restores_the_export(warehouse, export_dir, tmp_path):
    """The var route, which works on both engines (the Spark one is in test_spark_registry.py)."""
    passed(
        build(
            tmp_path,
            warehouse["raw"],
            {"ml_registry_restore_path": str(export_dir)},
            select=["+ml_ctr_model", "+ml_churn_model"],
        )
    )
    # Every exported row is there as exported (same trained_at and integrity: restored, not
    # retrained); a version the build trains that is in the export is not appended again.
    restored = registered(tmp_path / "warehouse.duckdb")
    assert kept(warehouse["after_full_refresh"], restored)
    for table in REGISTRIES:
        versions = [row[1] for row in restored[table]]
        assert len(versions) == len(set(versions))
    verify_every_row(tmp_path / "warehouse.duckdb")
