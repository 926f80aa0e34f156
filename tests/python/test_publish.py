"""Publish only tested data (issue 11, item 1): ``warehouse-ml publish`` and what BI readers see.

One full ``dbt build`` (every model and test, no selection) of the small data set, a copy of the
session's ``default_build``, is published; the default-suite tests work on that build, on
publications of it and on edited copies of its ``run_results.json``. The ``slow`` test runs the
whole story with real builds: a reader holds the published database open while a second full
build (other raw data, so other rows and new model versions) runs and publishes, then a build
whose test fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import _dbt as dbt
import duckdb
import pytest
from click.testing import CliRunner

from warehouse_ml import digest, publish
from warehouse_ml.cli import main as cli
from warehouse_ml.generate import write_dataset

BUILD = "build/warehouse.duckdb"


def full_build(work: Path, raw: Path, *, project: Path) -> subprocess.Popen:
    """A full ``dbt build`` of ``project`` into ``work/build/warehouse.duckdb``, backgrounded."""
    (work / "build").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "WAREHOUSE_ML_DUCKDB_PATH": str(work / BUILD),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [
        str(dbt.DBT),
        "build",
        "--profiles-dir",
        str(dbt.PROJECT_DIR / "profiles"),
        "--project-dir",
        str(project),
        "--target-path",
        str(run_results(work).parent),
        "--log-path",
        str(work / "logs"),
        "--vars",
        dbt.vars_text({"raw_data_path": str(raw)}),
    ]
    log = (work / "dbt_output.log").open("w")  # a file, not a pipe: dbt prints a lot
    return subprocess.Popen(command, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT)


def output_of(work: Path) -> str:
    return (work / "dbt_output.log").read_text()


def run_results(work: Path) -> Path:
    return work / "build" / "target_warehouse" / "run_results.json"


def publish_cli(work: Path, *extra: str, results: Path | None = None):
    return CliRunner().invoke(
        cli,
        [
            "publish",
            "--build",
            str(work / BUILD),
            "--to",
            str(work / "warehouse.duckdb"),
            "--run-results",
            str(results or run_results(work)),
            *extra,
        ],
    )


def publication_id(connection) -> str:
    return connection.execute("select publication_id from main.publication").fetchone()[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, default_build: dict) -> Path:
    """A full build of the small data set (a copy of the session's), published once."""
    work = tmp_path_factory.mktemp("publish")
    dbt.copy_build(default_build, work / "build")
    result = publish_cli(work)
    assert result.exit_code == 0, result.output
    return work


@pytest.fixture
def work(built: Path, tmp_path: Path) -> Path:
    """A copy of the built folder (build database, run_results, publication) a test may change."""
    copy = tmp_path / "work"
    shutil.copytree(built, copy, ignore=shutil.ignore_patterns("logs"))
    # Views point at absolute Parquet paths: republish so the copy reads its own files.
    shutil.rmtree(copy / "published")
    (copy / "warehouse.duckdb").unlink()
    assert publish_cli(copy).exit_code == 0
    return copy


def binary_tables(database: Path) -> set[tuple[str, str]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            "select distinct table_schema, table_name from information_schema.columns "
            "where data_type = 'BLOB'"
        ).fetchall()
    return set(rows)


def test_the_publication_holds_every_mart_and_ml_output_exactly_as_built(built: Path):
    schemas = publish.PUBLISHED_SCHEMAS
    build = {d.relation: d for d in digest.database_digests(str(built / BUILD), schemas)}
    published = {
        d.relation: d for d in digest.database_digests(str(built / "warehouse.duckdb"), schemas)
    }
    internal = {f"{schema}.{table}" for schema, table in publish.NOT_PUBLISHED}
    assert set(published) == {n for n in build if "__dbt_tmp" not in n and n not in internal}
    assert {"marts.fct_ad_ctr_daily", "ml.churn_scores", "ml.ml_model_metrics"} <= set(published)
    with_bytes = {f"{schema}.{table}" for schema, table in binary_tables(built / BUILD)}
    assert with_bytes >= {"ml.ml_churn_model", "ml.ml_ctr_model"}
    for name, found in published.items():
        assert found.row_count == build[name].row_count, name
        if name not in with_bytes:  # same column names and types, same rows, bit for bit
            assert found.same_content(build[name]), name


def test_artifact_bytes_never_leave_the_build_database(built: Path):
    published = built / "warehouse.duckdb"
    assert binary_tables(published) == set()
    with duckdb.connect(str(published), read_only=True) as connection:
        versions = connection.execute("select count(*) from ml.ml_churn_model").fetchone()[0]
    assert versions >= 1
    assert not list((built / "published").rglob("*.duckdb"))


def test_a_reader_keeps_its_snapshot_and_a_new_connection_sees_the_next_publication(work: Path):
    database = work / "warehouse.duckdb"
    reader = duckdb.connect(str(database), read_only=True)
    first = publication_id(reader)
    rows = reader.execute("select count(*) from marts.fct_ad_ctr_daily").fetchone()[0]
    inode = database.stat().st_ino

    result = publish_cli(work)
    assert result.exit_code == 0, result.output
    # Swapped by rename, never written in place: the reader's file is not the one now there.
    assert database.stat().st_ino != inode
    # The reader still reads its own snapshot, Parquet included.
    assert publication_id(reader) == first
    assert reader.execute("select count(*) from marts.fct_ad_ctr_daily").fetchone()[0] == rows
    # Another process opening the file now sees the new publication.
    probe = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
        "print(c.execute('select publication_id from main.publication').fetchone()[0])"
    )
    seen = subprocess.run(
        [sys.executable, "-c", probe, str(database)], capture_output=True, text=True, check=True
    )
    second = seen.stdout.strip()
    assert second != first
    reader.close()
    with duckdb.connect(str(database), read_only=True) as reconnected:
        assert publication_id(reconnected) == second

    # Keep 2: a third publication prunes the first, keeps the one a reader may still hold.
    assert publish_cli(work).exit_code == 0
    kept = sorted(path.name for path in (work / "published").iterdir() if path.is_dir())
    assert first not in kept and second in kept and len(kept) == 2


def assert_refused(work: Path, results: Path, *expected: str) -> None:
    database = work / "warehouse.duckdb"
    before = (database.read_bytes(), sorted((work / "published").iterdir()))
    with duckdb.connect(str(database), read_only=True) as connection:
        serving = publication_id(connection)
    result = publish_cli(work, results=results)
    assert result.exit_code == 1, result.output
    assert "not published" in result.output and "Traceback" not in result.output
    assert f"still serves publication {serving}" in result.output
    for text in expected:
        assert text in result.output
    assert (database.read_bytes(), sorted((work / "published").iterdir())) == before


def edited_results(work: Path, edit) -> Path:
    results = json.loads(run_results(work).read_text())
    edit(results)
    path = work / "edited_run_results.json"
    path.write_text(json.dumps(results))
    return path


def test_a_build_whose_test_failed_publishes_nothing_and_says_so(work: Path):
    def fail_a_test(results):
        test = next(node for node in results["results"] if node["unique_id"].startswith("test."))
        test["status"] = "fail"
        test["message"] = "Got 157 results, configured to fail if != 0"

    results = edited_results(work, fail_a_test)
    failed = next(
        n["unique_id"] for n in json.loads(results.read_text())["results"] if n["status"] == "fail"
    )
    assert_refused(work, results, f"{failed}: fail (Got 157 results", "the build did not pass")


def test_a_partial_or_unfinished_build_is_not_published(work: Path):
    def select_one(results):
        results["args"]["select"] = ["fct_ad_ctr_daily"]

    assert_refused(work, edited_results(work, select_one), "partial build")
    assert_refused(work, work / "missing.json", "the build did not finish")

    def run_not_build(results):
        results["args"]["which"] = "run"

    assert_refused(work, edited_results(work, run_not_build), "not `dbt build`")


def test_publish_refuses_to_overwrite_a_warehouse_dbt_built_in_place(work: Path):
    shutil.copy(work / BUILD, work / "old.duckdb")
    result = CliRunner().invoke(
        cli,
        [
            "publish",
            "--build",
            str(work / BUILD),
            "--to",
            str(work / "old.duckdb"),
            "--run-results",
            str(run_results(work)),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "is not a publication" in result.output and "mv " in result.output
    assert "ml_churn_model" in {t for _, t in binary_tables(work / "old.duckdb")}


def test_the_summary_ends_with_serving_metrics_the_report_and_a_working_bi_command(
    built: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(built)
    result = CliRunner().invoke(cli, ["summary", "--db", "warehouse.duckdb"])
    assert result.exit_code == 0, result.output
    tail = result.output.split("Serving models")[1]
    for model in ("churn", "ctr"):
        line = next(line for line in tail.splitlines() if line.strip().startswith(model))
        assert "ROC AUC 0." in line and "PR AUC" in line and "NE" in line, line
        assert "mean predicted/observed" in line, line
        # The calibration's standard error from the dataset's own labels follows it.
        assert re.search(r"mean predicted/observed \d\.\d{3} \(s\.e\. 0\.\d{3}\)$", line), line
    assert "Model report:" in tail and "reports/" in tail
    assert tail.index("Model report:") < tail.index("Connect BI")
    command = tail.split("try it: ")[1].splitlines()[0]
    assert command.startswith(".venv/bin/python -c ")
    printed = subprocess.run(
        command.replace(".venv/bin/python", sys.executable, 1),
        shell=True,
        cwd=built,
        capture_output=True,
        text=True,
    )
    assert printed.returncode == 0, printed.stderr
    assert "ad_id" in printed.stdout


def copy_project_with_a_failing_test(destination: Path) -> Path:
    """The project, plus one singular test that fails on any build (a stand-in for a real bug)."""
    project = dbt.PROJECT_DIR
    destination.mkdir(parents=True)
    for name in ("dbt_project.yml", "models", "macros", "seeds", "tests"):
        source = project / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("python"))
        elif source.is_file():
            shutil.copy(source, destination / name)
    (destination / "tests" / "assert_publish_guard_catches_this.sql").write_text(
        "select ad_id from {{ ref('fct_ad_ctr_daily') }}\n"
    )
    return destination


@pytest.mark.slow
def test_a_reader_is_never_blocked_and_only_passing_builds_reach_it(
    built: Path, tmp_path: Path, small_raw_dir: Path
):
    work = tmp_path / "work"
    (work / "build").mkdir(parents=True)
    shutil.copy(built / BUILD, work / BUILD)
    shutil.copytree(built / "build" / "target_warehouse", run_results(work).parent)
    assert publish_cli(work).exit_code == 0
    database = work / "warehouse.duckdb"
    reader = duckdb.connect(str(database), read_only=True)
    old_id = publication_id(reader)
    snapshot = "select count(*), sum(impressions) from marts.fct_ad_ctr_daily"
    old_rows = reader.execute(snapshot).fetchone()
    old_versions = reader.execute(
        "select model_name, model_version from ml.ml_churn_model union all "
        "select model_name, model_version from ml.ml_ctr_model order by all"
    ).fetchall()

    # A second full build on other raw data, into the same build database: the reader keeps
    # reading its snapshot all along, then a new connection sees the new rows.
    # (scale 0.03: the seed-8 data set at 0.02 has a CTR stratum below min_per_stratum)
    raw = tmp_path / "raw_larger"
    write_dataset(raw, scale=0.03, seed=7)
    (run_results(work)).unlink()
    process = full_build(work, raw, project=dbt.PROJECT_DIR)
    reads = 0
    while process.poll() is None:
        assert publication_id(reader) == old_id
        assert reader.execute(snapshot).fetchone() == old_rows
        reads += 1
        time.sleep(1)
    assert process.returncode == 0, output_of(work)[-6000:]
    assert reads > 10
    result = publish_cli(work)
    assert result.exit_code == 0, result.output
    assert reader.execute(snapshot).fetchone() == old_rows
    reader.close()
    with duckdb.connect(str(database), read_only=True) as reconnected:
        new_id = publication_id(reconnected)
        new_rows = reconnected.execute(snapshot).fetchone()
        new_versions = reconnected.execute(
            "select model_name, model_version from ml.ml_churn_model union all "
            "select model_name, model_version from ml.ml_ctr_model order by all"
        ).fetchall()
    assert new_id != old_id and new_rows != old_rows
    with duckdb.connect(str(work / BUILD), read_only=True) as build:
        assert build.execute(snapshot).fetchone() == new_rows
    # Registries carry over: every version of the first build is still there, plus new ones.
    assert set(old_versions) < set(new_versions)

    # A build whose test fails (back on the first raw data): the build database changes, the
    # publication does not.
    before = database.read_bytes()
    run_results(work).unlink()
    project = copy_project_with_a_failing_test(tmp_path / "project")
    process = full_build(work, small_raw_dir, project=project)
    process.wait()
    output = output_of(work)
    assert process.returncode == 1, output[-6000:]
    assert "assert_publish_guard_catches_this" in output
    result = publish_cli(work)
    assert result.exit_code == 1, result.output
    assert "assert_publish_guard_catches_this: fail" in result.output
    assert f"still serves publication {new_id}" in result.output
    assert database.read_bytes() == before
    with duckdb.connect(str(work / BUILD), read_only=True) as build:
        assert build.execute(snapshot).fetchone() == old_rows  # the failed build's tables
    with duckdb.connect(str(database), read_only=True) as reconnected:
        assert reconnected.execute(snapshot).fetchone() == new_rows
