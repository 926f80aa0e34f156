"""Tests of the ``warehouse-ml`` command line."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from warehouse_ml.cli import main
from warehouse_ml.generate import GENERATOR_VERSION, MANIFEST, TABLES


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def _generate(runner: CliRunner, out: Path, *extra: str, scale: str = "0.005", seed: str = "3"):
    return runner.invoke(
        main, ["generate", "--scale", scale, "--seed", seed, "--out", str(out), *extra]
    )


def test_generate_writes_tables_then_skips_when_up_to_date(runner: CliRunner, tmp_path: Path):
    out = tmp_path / "raw"
    result = _generate(runner, out)
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["generator_version"] == GENERATOR_VERSION
    assert (manifest["scale"], manifest["seed"]) == (0.005, 3)
    assert manifest["row_counts"]["transactions"] > 4000
    for table in TABLES:
        assert sorted(p.name for p in (out / table).iterdir())[0] == "part-00000.parquet"
    stamp = (out / "transactions" / "part-00000.parquet").stat().st_mtime_ns

    again = _generate(runner, out)
    assert again.exit_code == 0
    assert "up to date" in again.stdout
    assert (out / "transactions" / "part-00000.parquet").stat().st_mtime_ns == stamp
    assert json.loads((out / MANIFEST).read_text()) == manifest

    other_seed = _generate(runner, out, seed="4")
    assert other_seed.exit_code == 0
    assert "up to date" not in other_seed.stdout
    assert json.loads((out / MANIFEST).read_text())["seed"] == 4


def test_force_regenerates_and_keeps_foreign_files(runner: CliRunner, tmp_path: Path):
    out = tmp_path / "raw"
    assert _generate(runner, out).exit_code == 0
    (out / "notes.txt").write_text("mine")
    (out / "my_table").mkdir()
    (out / "my_table" / "x.parquet").write_text("not generated")
    stale = out / "clicks" / "part-00099.parquet"
    stale.write_text("left over from an earlier run")

    result = _generate(runner, out, "--force")
    assert result.exit_code == 0, result.output
    assert "up to date" not in result.stdout
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "my_table" / "x.parquet").exists()
    assert not stale.exists()


@pytest.mark.parametrize("scale", ["0", "-1", "abc"])
def test_generate_rejects_bad_scale(runner: CliRunner, tmp_path: Path, scale: str):
    out = tmp_path / "raw"
    result = _generate(runner, out, scale=scale)
    assert result.exit_code == 2
    assert "--scale" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


def test_generate_rejects_negative_seed(runner: CliRunner, tmp_path: Path):
    result = _generate(runner, tmp_path / "raw", seed="-1")
    assert result.exit_code == 2
    assert "--seed" in result.output
    assert "Traceback" not in result.output


def test_generate_rejects_unwritable_out(runner: CliRunner, tmp_path: Path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    result = _generate(runner, blocker / "raw")
    assert result.exit_code == 2
    assert "not a directory" in result.output
    assert "Traceback" not in result.output
    assert blocker.read_text() == "x"


def test_summary_lists_marts_first_with_counts(runner: CliRunner, tmp_path: Path):
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema staging")
    con.execute("create schema marts")
    con.execute("create table staging.stg_shop__customers as select range as id from range(5)")
    con.execute("create table marts.fct_ad_ctr_daily as select range as id from range(1234)")
    con.execute("create view marts.dim_ads as select 1 as ad_id")
    con.close()

    result = runner.invoke(main, ["summary", "--db", str(db)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows = [line for line in lines if line.startswith(("marts.", "staging."))]
    assert [row.split()[0] for row in rows] == [
        "marts.dim_ads",
        "marts.fct_ad_ctr_daily",
        "staging.stg_shop__customers",
    ]
    assert rows[1].split()[-1] == "1,234"
    assert rows[2].split()[-1] == "5"
    assert "Where to look next" in result.stdout
    assert f"duckdb.connect('{db}', read_only=True)" in result.stdout
    assert "dbt docs generate --profiles-dir profiles" in result.stdout


def test_summary_missing_file(runner: CliRunner, tmp_path: Path):
    result = runner.invoke(main, ["summary", "--db", str(tmp_path / "nope.duckdb")])
    assert result.exit_code == 1
    assert "does not exist" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "nope.duckdb").exists()


def test_summary_lists_the_ml_layer_after_the_marts_without_dbt_scratch_tables(
    runner: CliRunner, tmp_path: Path
):
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    for schema in ("staging", "marts", "ml"):
        con.execute(f"create schema {schema}")
    con.execute("create table staging.stg_ads__ads as select 1 as ad_id")
    con.execute("create table marts.dim_ads as select 1 as ad_id")
    con.execute("create table ml.ml_model_specs as select 'ctr' as model_name")
    con.execute("create table ml.ctr_predictions as select range as id from range(3)")
    con.execute("create table main.ml_ctr_model__dbt_tmp20260101 as select 1 as x")
    con.close()

    result = runner.invoke(main, ["summary", "--db", str(db)])
    assert result.exit_code == 0, result.output
    names = [line.split()[0] for line in result.stdout.splitlines() if "." in line.split(" ")[0]]
    assert (
        names[:5]
        == [
            "marts.dim_ads",
            "ml.ctr_predictions",
            "ml.ml_model_specs",
            "staging.stg_ads__ads",
        ][:5]
    )
    assert "__dbt_tmp" not in result.stdout
    assert "ml (specs, registries, versions, scores): ml.ctr_predictions, ml.ml_model_specs" in (
        result.stdout
    )
